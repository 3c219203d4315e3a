# ruff: noqa: E501 (corpus texts are kept as written, one line per log line)
"""Hard negatives (technology, versions, timestamps, public hosts, ids), and mixed items."""

from __future__ import annotations

ITEMS = [
    (
        "neg-001",
        [],
        """Upgrade notes for 10.4.3: Java 17.0.9 or later, Tomcat 9.0.85, PostgreSQL 15.5 or Oracle 19c, Kubernetes 1.28. See https://maven.apache.org/guides/mini/guide-mirror-settings.html and https://docs.oracle.com/en/java/javase/17/docs/api/java.base/java/net/SocketTimeoutException.html for background.""",
        [],
    ),
    (
        "neg-002",
        [],
        """2026-11-25 10:00:00,123 INFO  [main] org.apache.catalina.startup.Catalina - Server startup in [12045] milliseconds
2026-11-25 10:00:00,124 INFO  [main] org.apache.coyote.AbstractProtocol - Starting ProtocolHandler ["http-nio-127.0.0.1-8080"]
2026-11-25 10:00:01,007 INFO  [main] com.vendor.runtime.Bootstrap - runtime 10.4.2 (build 7731, commit 9f3c2a1b7e8d4f6a0b5c9d2e1f3a4b6c8d0e2f4a) ready on http://localhost:8080/""",
        [],
    ),
    (
        "neg-003",
        [],
        """java.lang.NullPointerException: Cannot invoke "String.length()" because "value" is null
	at com.vendor.runtime.entity.EntityMapper.map(EntityMapper.java:118)
	at com.vendor.runtime.entity.EntityService.save(EntityService.java:77)
	at jdk.internal.reflect.GeneratedMethodAccessor412.invoke(Unknown Source)
	at java.base/java.lang.Thread.run(Thread.java:840)""",
        [],
    ),
    (
        "neg-004",
        [],
        """To enable debug logging add to log4j2.xml:
<Logger name="com.vendor.runtime.gateway" level="debug" additivity="false"><AppenderRef ref="FILE"/></Logger>
Then restart with `systemctl restart vendor-runtime` and tail /var/log/vendor/runtime.log. The setting password.policy.minLength=12 is unrelated.""",
        [],
    ),
    (
        "neg-005",
        [],
        """The Workspace export is a zip (Project.json, entities/*.json, settings.xml). Import it with `vendorctl workspace import --file workspace-export.zip --target uat`. Do not edit pom.xml or build.gradle by hand; run setup.py only on the build agent.""",
        [],
    ),
    (
        "neg-006",
        [],
        """Known issue BUG-2231: the Gateway on Windows Server 2019 fails when TLS 1.0 is disabled and .NET Framework 4.8 is older than 4.8.04084. Workaround: install KB5011048, then restart IIS. Microsoft's article: https://learn.microsoft.com/en-us/dotnet/framework/network-programming/tls""",
        [],
    ),
    (
        "neg-007",
        [],
        """Request id 3e1a6f2c-8b4d-4f0e-9a7c-2d5b6e8f1a3c took 1834 ms; trace id 4bf92f3577b34da6a3ce929d0e0e4736; span 00f067aa0ba902b7. Memory: 3.9G/4.0G; GC pause 1.812 s; threads 214; open files 8192; ulimit -n 65536.""",
        [],
    ),
    (
        "neg-008",
        [],
        """docker run -d --name runtime -p 8080:8080 -e JAVA_OPTS="-Xmx4g -XX:+UseG1GC" vendor/runtime:10.4.2
docker exec runtime curl -s http://127.0.0.1:8080/actuator/health
{"status":"UP","components":{"db":{"status":"UP"},"diskSpace":{"status":"UP"}}}""",
        [],
    ),
    (
        "neg-009",
        [],
        """Stack Overflow answer https://stackoverflow.com/questions/2591098/how-to-parse-json-in-java suggests Jackson; the upstream issue is https://github.com/FasterXML/jackson-databind/issues/3911. Fixed in jackson-databind 2.15.3 (commit a4f2e9d).""",
        [],
    ),
    (
        "neg-010",
        [],
        """Checklist before opening a case: 1) which environment (production or not)? 2) since when (timestamp with time zone)? 3) how many users? 4) the runtime log and the Gateway log for that window, 5) the exact version from Help > About (e.g. 10.4.2.7731).""",
        [],
    ),
    (
        "neg-011",
        [],
        """Kubernetes: kubectl -n vendor get pods; kubectl describe pod runtime-0; check the liveness probe on /actuator/health (port 8080) and readiness on /actuator/health/readiness. Default namespace is vendor; service runtime.vendor.svc.cluster.local.""",
        [],
    ),
    (
        "neg-012",
        [],
        """Example from our docs: spring.datasource.url=jdbc:postgresql://localhost:5432/runtime, spring.datasource.username=runtime, spring.datasource.password=${DB_PASSWORD}. Never put the real password in the file; use an environment variable or Vault.""",
        [],
    ),
    (
        "neg-013",
        [],
        """SMTP test: swaks --to user@example.com --server smtp.example.com:587 --auth LOGIN --auth-user user@example.com --auth-password '<your-password>'. Documentation addresses such as admin@example.org are placeholders.""",
        [],
    ),
    (
        "neg-014",
        [],
        """Netmask 255.255.255.0, gateway address field empty, DNS 8.8.8.8 and 1.1.1.1; the cloud metadata endpoint 169.254.169.254 must be reachable from the node. IPv6 loopback ::1 is fine.""",
        [],
    ),
    (
        "neg-015",
        [],
        """SELECT e.id, e.name, p.version FROM entity e JOIN project p ON p.id = e.project_id WHERE p.version >= '10.4' ORDER BY e.updated_at DESC LIMIT 50; -- took 12.3 s on 4,200,000 rows""",
        [],
    ),
    (
        "neg-016",
        [],
        """Timestamps in the Gateway log are UTC: 2026-11-25T21:14:03.512Z, Nov 25 21:14:03, 25/Nov/2026:21:14:03 +0000, 1764105243. Durations: PT30M, 00:30:00, 1800 s.""",
        [],
    ),
    (
        "neg-017",
        [],
        """logger.info("Entity {} saved", entity.getId()); LOG.debug("token refreshed"); this.app.config.set("mode", "cloud"); System.Net.Http.HttpClient throws on self-signed certificates; java.io.IOException is a checked exception; use Node.js 20 and ASP.NET Core 8.""",
        [],
    ),
    (
        "neg-018",
        [],
        """Maven coordinates: com.vendor:runtime-api:10.4.2, org.springframework.boot:spring-boot-starter-web:3.2.0, io.netty:netty-handler:4.1.104.Final. Repository https://repo.maven.apache.org/maven2/ mirrors to https://repo1.maven.org/maven2/.""",
        [],
    ),
    (
        "neg-019",
        [],
        """Password reset flow: the user clicks "Forgot password", receives a one-time link valid for 30 minutes, and must choose a password of at least 12 characters. The password field is required; secret questions are no longer supported.""",
        [],
    ),
    (
        "neg-020",
        [],
        """SHA-256 of runtime-10.4.2.tar.gz: 6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b. Verify with `sha256sum runtime-10.4.2.tar.gz` before installing; the GPG key fingerprint is 7C9E 4A2F 31B8 0D55 6E1A 92C4 8F3D 1B6A 0E7F 2C45.""",
        [],
    ),
    (
        "neg-021",
        [],
        """Cloud regions: eu-west-1 (Ireland), eu-central-1 (Frankfurt), us-east-1. The status page is https://status.vendor.example and the docs live at https://docs.vendor.example/runtime/10.4/gateway/proxy-settings.""",
        [],
    ),
    (
        "neg-022",
        [],
        """# nginx.conf excerpt from the docs
upstream runtime { server 127.0.0.1:8080; keepalive 32; }
server {
  listen 443 ssl http2;
  ssl_certificate /etc/nginx/ssl/server.crt;
  proxy_read_timeout 300s;
  large_client_header_buffers 4 32k;
}""",
        [],
    ),
    (
        "neg-023",
        [],
        """Vendor product terms: an Entity belongs to a Project; Projects live in a Workspace; a Workspace runs in the Cloud or On-Premises, or behind a Gateway. The Community Forum and the Support Helpdesk are the places for how-to questions.""",
        [],
    ),
    (
        "neg-024",
        [],
        """Ports used: 443 (HTTPS), 7443 (Gateway relay), 5432 (PostgreSQL), 1521 (Oracle), 1433 (SQL Server), 6379 (Redis), 9093 (Kafka TLS). Call our support line from the package page if your package includes phone support.""",
        [],
    ),
    (
        "neg-025",
        [],
        """Build 7731 fixes PCH-style references in e-mails being parsed twice (internal ticket RT-4411). Tested on Chrome 131.0.6778.86, Firefox 133.0 and Edge 131.0.2903.70; Safari 17.5 pending.""",
        [],
    ),
    (
        "mix-001",
        ["nw"],
        """Root cause (draft): the nw-prod ingress enabled HTTP/2 with the 10.4.2 platform release; Tomcat 9.0.83 mishandles large HTTP/2 headers (https://bz.apache.org/bugzilla/show_bug.cgi?id=68178). Workaround: disable HTTP/2 on the ingress. Thanks to Alice Northwind for the quick tests.""",
        [
            ("environment", "nw-prod"),
            ("contact", "Alice Northwind"),
        ],
    ),
    (
        "mix-002",
        ["wg"],
        """Woodgrove Bank's DR runbook step 7 ("promote replica") ran before step 6 ("fence primary"): both pg-primary.wgb.internal and pgdr01.wgb.internal accepted writes for 4 minutes. PostgreSQL 15.4, Patroni 3.2.0, etcd 3.5.10.""",
        [
            ("organisation", "Woodgrove Bank"),
            ("hostname", "pg-primary.wgb.internal"),
            ("hostname", "pgdr01.wgb.internal"),
        ],
    ),
    (
        "mix-003",
        ["lt"],
        """For the article: "A customer's SAML login looped because the F5 iRule rewrote the SameSite attribute." Customer-specific details to strip: Litware, sso.litware.com, dalvarez@litware.com, 172.16.40.10.""",
        [
            ("organisation", "Litware"),
            ("hostname", "sso.litware.com"),
            ("email", "dalvarez@litware.com"),
            ("ip", "172.16.40.10"),
        ],
    ),
    (
        "mix-004",
        ["ch"],
        """Contoso Health's Gateway (ch-prod) runs version 10.4.2 on Windows Server 2019 with .NET Framework 4.8; it talks to SQL Server 2019 on CHSQL01. TLS 1.2 only.""",
        [
            ("organisation", "Contoso Health"),
            ("environment", "ch-prod"),
            ("hostname", "CHSQL01"),
        ],
    ),
    (
        "mix-005",
        ["aw"],
        """Heap analysis: EntityCache retained 2.1 GB (62 %). entityCache.maxEntries=200000 on awprdapp01 was the default multiplied by 10 by Adventure Works Cycles' ops team in 2024. Recommendation: 50,000.""",
        [
            ("hostname", "awprdapp01"),
            ("organisation", "Adventure Works Cycles"),
        ],
    ),
    (
        "mix-006",
        ["fr"],
        """Dan, please run: `vendor-gateway diagnose --relay wss://relay.cloud.vendor.example/agent --proxy http://proxy.fabrikam.example:3128` and send the output to eng1@vendor.example.""",
        [
            ("contact", "Dan"),
            ("url", "http://proxy.fabrikam.example:3128"),
            ("email", "eng1@vendor.example"),
        ],
    ),
    (
        "mix-007",
        ["pw"],
        """Proseware GmbH uses an LDAP group (cn=vendor-users,ou=groups,dc=proseware,dc=de) for access. The runtime setting ldap.groupSearchFilter=(member={0}) is correct; ldap.referral=follow caused the 30 s delay.""",
        [("organisation", "Proseware GmbH"), ("organisation", "proseware")],
    ),
    (
        "mix-008",
        ["hi"],
        """Severity S1 (possible data exposure). Humongous Insurance, hi-claims-prod, 10.4.2. Engineer: eng1@vendor.example. Session fixation through the "remember me" cookie; see the OWASP cheat sheet at https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html.""",
        [
            ("organisation", "Humongous Insurance"),
            ("environment", "hi-claims-prod"),
            ("email", "eng1@vendor.example"),
        ],
    ),
    (
        "mix-009",
        ["by"],
        """Blue Yonder Airlines' roster-sync uses the AWS SDK for Java 2.21.0 with the default credential chain; in bya-prod the instance profile lacked s3:PutObject on the archive bucket. Public docs: https://docs.aws.amazon.com/sdk-for-java/latest/developer-guide/credentials-chain.html""",
        [
            ("organisation", "Blue Yonder Airlines"),
            ("environment", "bya-prod"),
        ],
    ),
    (
        "mix-010",
        ["fc"],
        """Fourth Coffee's Android app 5.12.0 (build 51200) calls https://flags.fourthcoffee.com; the flag 'checkout_v3' was missing from the config. The fix shipped in 5.12.1. Marcus Lee confirmed.""",
        [
            ("organisation", "Fourth Coffee"),
            ("url", "https://flags.fourthcoffee.com"),
            ("contact", "Marcus Lee"),
        ],
    ),
    (
        "mix-011",
        ["tt"],
        """Tailspin Travel (tt-prod) is on the Essential package: no desk access. Rahul Mehta was redirected to the Support Helpdesk with case PCH-000412 closed as "redirected".""",
        [
            ("organisation", "Tailspin Travel"),
            ("environment", "tt-prod"),
            ("contact", "Rahul Mehta"),
            ("case_ref", "PCH-000412"),
        ],
    ),
    (
        "mix-012",
        ["lh"],
        """Lamna Healthcare Company: nginx 1.24 in front of Tomcat 9.0.83, HTTP/2 on. Error "upstream sent too big header" resolved by proxy_buffer_size 16k. Reporter Fatima Al-Sayed, case PCH-002231.""",
        [
            ("organisation", "Lamna Healthcare Company"),
            ("contact", "Fatima Al-Sayed"),
            ("case_ref", "PCH-002231"),
        ],
    ),
    (
        "mix-013",
        ["nw"],
        """Custom terms test: Northwind's internal project name "Bluebird" and the claims system "ClaimPoint" must not appear in the article; ClaimPoint runs on nw-prod.""",
        [
            ("organisation", "Northwind"),
            ("custom", "Bluebird"),
            ("custom", "ClaimPoint"),
            ("environment", "nw-prod"),
        ],
        {"extra": ["Bluebird", "ClaimPoint"]},
    ),
    (
        "mix-014",
        ["wg"],
        """Allow-list test: the author keeps "payments.wgb.internal" (already public in the vendor's status page) but Priya Raman and 10.44.20.5 must go. The service payments.wgb.internal was slow.""",
        [
            ("contact", "Priya Raman"),
            ("ip", "10.44.20.5"),
        ],
        {"allow": ["payments.wgb.internal"]},
    ),
]
