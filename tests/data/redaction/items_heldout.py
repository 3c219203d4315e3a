# ruff: noqa: E501 (corpus texts are kept as written, one line per log line)
"""A held-out set: written after the engine was tuned on the main corpus, and not tuned on.

Its figures (``critdesk eval redaction tests/data/redaction/heldout``) say how the redactor
does on texts it was not adjusted to; they are reported, not held to the targets by a test.
"""

from __future__ import annotations

ITEMS = [
    (
        "held-001",
        ["nw"],
        """Morning Eli — quick one from Bob. Since 06:10 the policy search on nw-prod returns "503 Service Unavailable" for roughly a third of requests. Our on-call (Alice, 07700 900 314) restarted pod claims-search-2 with no change. Grafana is at https://grafana.northwind.example/d/claims?orgId=1 if you need it.""",
        [
            ("contact", "Bob"),
            ("environment", "nw-prod"),
            ("contact", "Alice"),
            ("phone", "07700 900 314"),
            ("url", "https://grafana.northwind.example/d/claims?orgId=1"),
        ],
    ),
    (
        "held-002",
        ["wg"],
        """2026-11-26 01:12:44.019 ERROR [pool-3-thread-7] c.v.r.jobs.Transfer - settlement batch 88213 failed for priya.raman@woodgrovebank.co.uk: org.postgresql.util.PSQLException: FATAL: remaining connection slots are reserved (host pgdr01.wgb.internal/10.44.13.7:5432)""",
        [
            ("email", "priya.raman@woodgrovebank.co.uk"),
            ("hostname", "pgdr01.wgb.internal"),
            ("ip", "10.44.13.7"),
        ],
    ),
    (
        "held-003",
        ["ch"],
        """Carol attached gateway.config:
  "relay": { "url": "wss://relay.cloud.vendor.example/agent", "apiKey": "gwk_L7x2Qm9Tz4Rv8Np1Kc6Wd3Jh5Bf0Ys" },
  "db": { "server": "CHSQL01\\\\GATEWAY", "user": "gw_svc", "password": "Ch#Gw2026!prod" }""",
        [
            ("contact", "Carol"),
            ("secret", "gwk_L7x2Qm9Tz4Rv8Np1Kc6Wd3Jh5Bf0Ys"),
            ("hostname", "CHSQL01"),
            ("secret", "Ch#Gw2026!prod"),
        ],
    ),
    (
        "held-004",
        ["lt"],
        """Diego's HAR shows the IdP redirect to https://sso.litware.com/adfs/ls/?wa=wsignin1.0 and a Set-Cookie: MSISAuth=AAEAAJx3k9Lm2Qp7Rt4Wz8Yn1Bc6Dh5Fj0Gs2Ua9Ve4Ri; path=/adfs; secure; HttpOnly from 172.16.40.10.""",
        [
            ("contact", "Diego"),
            ("url", "https://sso.litware.com/adfs/ls/?wa=wsignin1.0"),
            ("secret", "AAEAAJx3k9Lm2Qp7Rt4Wz8Yn1Bc6Dh5Fj0Gs2Ua9Ve4Ri"),
            ("ip", "172.16.40.10"),
        ],
    ),
    (
        "held-005",
        ["pw"],
        """Lars ran the export from his laptop: C:\\Users\\leriksson\\Documents\\pw-export-2611.zip (3.2 GB). Upload through the case page failed at 2 GB; please share it via our SFTP sftp://transfer.proseware.de/incoming instead — user vendor, password Pw-Sftp#2611.""",
        [
            ("contact", "Lars"),
            ("path", "C:\\Users\\leriksson"),
            ("hostname", "transfer.proseware.de"),
            ("secret", "Pw-Sftp#2611"),
        ],
    ),
    (
        "held-006",
        ["aw"],
        """Oluwaseun, thanks for the heap histogram. As agreed on the call (Aoife joined from +353 87 555 0143), we'll ship the EntityCache fix in 10.4.4; until then keep entityCache.maxEntries at 50000 on AW-PRD-01.""",
        [
            ("contact", "Oluwaseun"),
            ("contact", "Aoife"),
            ("phone", "+353 87 555 0143"),
            ("environment", "AW-PRD-01"),
        ],
    ),
    (
        "held-007",
        ["fr"],
        """Kenji's terminal:
kenji@fr-gw01:~$ export GATEWAY_TOKEN=frgw_8Kd2Xm9Lq4Vt7Rp1Wn3Bc6Yh0Jf5Gs
kenji@fr-gw01:~$ curl -sS -H "Authorization: Bearer $GATEWAY_TOKEN" https://gw01.fabrikam.example:7443/status
{"status":"degraded","relay":"disconnected","since":"2026-11-26T03:02:11Z"}""",
        [
            ("contact", "Kenji"),
            ("secret", "frgw_8Kd2Xm9Lq4Vt7Rp1Wn3Bc6Yh0Jf5Gs"),
            ("url", "https://gw01.fabrikam.example:7443/status"),
        ],
    ),
    (
        "held-008",
        ["tt"],
        """Erin Tailspin forwarded the customer complaint (names removed by them) and asked whether the booking engine on tt-prod can be moved to the Premium package. Rahul's direct number: +44 131 496 0455.""",
        [
            ("contact", "Erin Tailspin"),
            ("environment", "tt-prod"),
            ("contact", "Rahul"),
            ("phone", "+44 131 496 0455"),
        ],
    ),
    (
        "held-009",
        ["lh"],
        """Jean-Luc Martin: "le certificat de portal.lamnahealthcare.com a expiré cette nuit". Fatima confirmed with openssl: notAfter=Nov 26 00:00:00 2026 GMT, issuer=C = US, O = Let's Encrypt, CN = R11.""",
        [
            ("contact", "Jean-Luc Martin"),
            ("hostname", "portal.lamnahealthcare.com"),
            ("contact", "Fatima"),
        ],
    ),
    (
        "held-010",
        ["hi"],
        """Grace Okafor's screenshot shows claim CLM-2026-118842 of another customer. Our logs: session 7f3a9c1e2d4b on hi-claims-prod served by node hi-app-03 (10.12.4.91) with JSESSIONID=7F3A9C1E2D4B5A6978869504A3B2C1D0.hi-app-03.""",
        [
            ("contact", "Grace Okafor"),
            ("environment", "hi-claims-prod"),
            ("ip", "10.12.4.91"),
            ("secret", "7F3A9C1E2D4B5A6978869504A3B2C1D0.hi-app-03"),
        ],
    ),
    (
        "held-011",
        ["by"],
        """Blue Yonder asked for the AWS details we need: the role is arn:aws:iam::482915736201:role/bya-roster-sync and the access key they created for testing is AKIAXT7Q3MZ9LR2NBV5P with secret Lr8Xq2Vm7Tz4Wn9Kc3Jd6Hf1Pz5Gs0Ua8Ye2Bn.""",
        [
            ("organisation", "Blue Yonder"),
            ("secret", "AKIAXT7Q3MZ9LR2NBV5P"),
            ("secret", "Lr8Xq2Vm7Tz4Wn9Kc3Jd6Hf1Pz5Gs0Ua8Ye2Bn"),
        ],
    ),
    (
        "held-012",
        ["fc"],
        """Emma Jones: the Android build pipeline uses the keystore /Users/ejones/keys/fourthcoffee-release.jks with storePassword=Fc!Rel3ase-KS and keyPassword=Fc!Rel3ase-Key. Marcus Lee has a copy.""",
        [
            ("contact", "Emma Jones"),
            ("path", "/Users/ejones"),
            ("organisation", "fourthcoffee"),
            ("secret", "Fc!Rel3ase-KS"),
            ("secret", "Fc!Rel3ase-Key"),
            ("contact", "Marcus Lee"),
        ],
    ),
    (
        "held-013",
        [],
        """General advice for the knowledge base: when the Gateway logs "TLS handshake failed: certificate verify failed", import the proxy's root CA into the Gateway trust store (gateway.truststore, default password documented in the install guide) and restart the service. Works with Windows Server 2016–2022 and RHEL 8/9.""",
        [],
    ),
    (
        "held-014",
        [],
        """Reproduction: docker compose up with image vendor/runtime:10.4.2, then run `ab -n 20000 -c 200 http://localhost:8080/api/health`. On 10.4.2 the p99 climbs to 4.8 s after ~12,000 requests; on 10.4.3 it stays at 45 ms. JVM flags: -Xms2g -Xmx2g -XX:+UseZGC.""",
        [],
    ),
    (
        "held-015",
        ["nw", "wg"],
        """Weekly review: Northwind Insurance (PCH-000207, resolved) and Woodgrove Bank plc (PCH-004211, awaiting customer). Alice Northwind and Tomasz Kowalski get the summary; send it from support@vendor.example.""",
        [
            ("organisation", "Northwind Insurance"),
            ("case_ref", "PCH-000207"),
            ("organisation", "Woodgrove Bank plc"),
            ("case_ref", "PCH-004211"),
            ("contact", "Alice Northwind"),
            ("contact", "Tomasz Kowalski"),
            ("email", "support@vendor.example"),
        ],
    ),
    (
        "held-016",
        ["ch"],
        """Siobhán's ticket to their firewall team (FW-2231): allow 10.50.0.0/24 → relay.cloud.vendor.example:443, source host chgw01.contoso.example (10.50.0.17). Contact: s.obrien@contoso.example, ext. 4417.""",
        [
            ("contact", "Siobhán"),
            ("ip", "10.50.0.0"),
            ("hostname", "chgw01.contoso.example"),
            ("ip", "10.50.0.17"),
            ("email", "s.obrien@contoso.example"),
        ],
    ),
    (
        "held-017",
        ["lt"],
        """Mei Chen wrote: our security team rotated the OIDC client secret; the new one is in the vault but for the test please use client_secret=Lw.Oidc~8Hq2Xm7Vt4Rp9Wn3Kc6Jd1Bf5Gs0Ya. Litware Inc. staging only (litware-staging).""",
        [
            ("contact", "Mei Chen"),
            ("secret", "Lw.Oidc~8Hq2Xm7Vt4Rp9Wn3Kc6Jd1Bf5Gs0Ya"),
            ("organisation", "Litware Inc."),
            ("environment", "litware-staging"),
        ],
    ),
    (
        "held-018",
        ["pw"],
        """[2026-11-26 07:41:09] ERROR ldap: search failed for (&(objectClass=person)(mail=h.schmidt@proseware.de)) on ldaps://dc02.proseware.de:636: Server is busy""",
        [
            ("email", "h.schmidt@proseware.de"),
            ("hostname", "dc02.proseware.de"),
        ],
    ),
    (
        "held-019",
        ["hi"],
        """Will Turner asked if we could look at their WAF rule; the WAF admin console is https://waf.humongousinsurance.com:8443/admin and he shared a temporary login: waf-vendor / Hi-Waf-Tmp-26!.""",
        [
            ("contact", "Will Turner"),
            ("url", "https://waf.humongousinsurance.com:8443/admin"),
            ("secret", "Hi-Waf-Tmp-26!"),
        ],
    ),
    (
        "held-020",
        ["aw"],
        """-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIPq2Lm9Xv4Rt8Wn3Kc6Jd1Hf5Pz0Gs2Ua9Ve4Ri1Oy7oAoGCCqGSM49
AwEHoUQDQgAEk3v9Qm2Lp7Rt4Wz8Yn1Bc6Dh5Fj0Gs2Ua9Ve4Ri1Oy7Pw3Ex6Dz5
-----END EC PRIVATE KEY-----
^ that's the key from awprdapp01:/etc/vendor/tls/server.key, Aoife says it's the old one.""",
        [
            (
                "secret",
                "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIPq2Lm9Xv4Rt8Wn3Kc6Jd1Hf5Pz0Gs2Ua9Ve4Ri1Oy7oAoGCCqGSM49\nAwEHoUQDQgAEk3v9Qm2Lp7Rt4Wz8Yn1Bc6Dh5Fj0Gs2Ua9Ve4Ri1Oy7Pw3Ex6Dz5\n-----END EC PRIVATE KEY-----",
            ),
            ("hostname", "awprdapp01"),
            ("contact", "Aoife"),
        ],
    ),
]
