# ruff: noqa: E501 (corpus texts are kept as written, one line per log line)
"""Configuration files, connection strings, credentials and keys pasted into cases."""

from __future__ import annotations

PEM_RSA = """-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun
VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK
LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo
9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ0iT9wCS0DRTXu269V264Vf/3jvre
-----END RSA PRIVATE KEY-----"""

PEM_PKCS8 = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgevZzL1gdAFr88hb2
OF/2NxApJCzGCEDdfSp6VQO30hyhRANCAAQRWz+jn65BtOMvdyHKcvjBeBSDZH2r
1RTwjmYSi9R/zpBnuQ4EiMnCqfMPWiZqB4QdbAd0E7oH50VpuZ1P087G
-----END PRIVATE KEY-----"""

PEM_OPENSSH = """-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACDg4Gl2XJm3Ww9z8Tn0jK7hYt5Qm2Vx8dR3pL6sN1cB4wAAAJhq1c0Katas
-----END OPENSSH PRIVATE KEY-----"""

GCP_KEY_ESCAPED = (
    "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"
    "\\nMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\\n"
    "-----END PRIVATE KEY-----\\n"
)

ITEMS = [
    (
        "cfg-001",
        ["nw"],
        """# application.properties on nw-prod
spring.datasource.url=jdbc:postgresql://claims-db.northwind.example:5432/claims
spring.datasource.username=claims_app
spring.datasource.password=Nw!Cl41ms-Pr0d
spring.jpa.hibernate.ddl-auto=validate
server.port=8080
logging.level.org.hibernate.SQL=WARN""",
        [
            ("environment", "nw-prod"),
            ("hostname", "claims-db.northwind.example"),
            ("secret", "Nw!Cl41ms-Pr0d"),
        ],
    ),
    (
        "cfg-002",
        ["wg"],
        """# values.yaml (helm) for wgb-prod
image:
  repository: registry.wgb.internal/payments/api
  tag: "10.4.2"
database:
  host: pg-primary.wgb.internal
  port: 5432
  user: wgb_app
  password: "Wgb#Pay-2026-q4"
redis:
  url: redis://:r3d1sP4ss@cache01.wgb.internal:6379/0
replicaCount: 3""",
        [
            ("environment", "wgb-prod"),
            ("hostname", "registry.wgb.internal"),
            ("hostname", "pg-primary.wgb.internal"),
            ("secret", "Wgb#Pay-2026-q4"),
            ("secret", "r3d1sP4ss"),
            ("hostname", "cache01.wgb.internal"),
        ],
    ),
    (
        "cfg-003",
        ["lt"],
        """[default]
aws_access_key_id = AKIA2JXH6QZ7MBV4RT5N
aws_secret_access_key = 7fHq2Lk9Vx4Rm8Tn3Wc6Yb1Jd5Pz0Gs2Ua8Ke4Q
region = us-west-2

[litware-live]
aws_access_key_id = ASIA5PLD3WQ8NX2ZKR7V
aws_secret_access_key = Zq8Xv3Lm6Rt1Wp9Ks4Jd7Hc2Bn5Fg0Ya3Te6Ui8
aws_session_token = IQoJb3JpZ2luX2VjEHYaCXVzLXdlc3QtMiJHMEUCIQDkR4t8xW2nL5vQ9mZ3pY7cB1dF6gH0jK2sT4uV8wX1aA""",
        [
            ("secret", "AKIA2JXH6QZ7MBV4RT5N"),
            ("secret", "7fHq2Lk9Vx4Rm8Tn3Wc6Yb1Jd5Pz0Gs2Ua8Ke4Q"),
            ("environment", "litware-live"),
            ("secret", "ASIA5PLD3WQ8NX2ZKR7V"),
            ("secret", "Zq8Xv3Lm6Rt1Wp9Ks4Jd7Hc2Bn5Fg0Ya3Te6Ui8"),
            (
                "secret",
                "IQoJb3JpZ2luX2VjEHYaCXVzLXdlc3QtMiJHMEUCIQDkR4t8xW2nL5vQ9mZ3pY7cB1dF6gH0jK2sT4uV8wX1aA",
            ),
        ],
    ),
    (
        "cfg-004",
        ["ch"],
        """<connectionStrings>
  <add name="GatewayDb" connectionString="Server=CHSQL01\\GATEWAY;Database=GatewayDb;User Id=gw_svc;Password=Ch#Gw2026!prod;TrustServerCertificate=True" providerName="System.Data.SqlClient" />
</connectionStrings>
<appSettings>
  <add key="RelayUrl" value="wss://relay.cloud.vendor.example/agent" />
  <add key="RelayApiKey" value="rk_9Xv2Lm7Qp4Tz8Wn1Bc6Yd3Hf5Jg0Ks2" />
</appSettings>""",
        [
            ("hostname", "CHSQL01"),
            ("secret", "Ch#Gw2026!prod"),
            ("secret", "rk_9Xv2Lm7Qp4Tz8Wn1Bc6Yd3Hf5Jg0Ks2"),
        ],
    ),
    (
        "cfg-005",
        ["pw"],
        """# /etc/vendor/ldap.conf (pw-prod-eu)
ldap.url=ldaps://dc01.proseware.de:636
ldap.bindDn=cn=svc-vendor,ou=service,dc=proseware,dc=de
ldap.bindPassword=Pr0s3w@re-LDAP!
ldap.userSearchBase=ou=people,dc=proseware,dc=de
ldap.connectTimeoutMillis=5000""",
        [
            ("environment", "pw-prod-eu"),
            ("hostname", "dc01.proseware.de"),
            ("secret", "Pr0s3w@re-LDAP!"),
            ("organisation", "proseware"),
        ],
    ),
    (
        "cfg-006",
        ["aw"],
        f"""Here is the key the Gateway uses to reach awprdapp01, as requested (please delete after use):

{PEM_RSA}

and the passphrase is on its own line below:
passphrase: Aw-Gw-Key-2026!""",
        [
            ("hostname", "awprdapp01"),
            ("secret", PEM_RSA),
            ("secret", "Aw-Gw-Key-2026!"),
        ],
    ),
    (
        "cfg-007",
        ["fr"],
        f"""$ cat ~/.ssh/id_ed25519
{PEM_OPENSSH}
$ ssh -i ~/.ssh/id_ed25519 dan@gw01.fabrikam.example
dan@gw01.fabrikam.example: Permission denied (publickey).""",
        [
            ("secret", PEM_OPENSSH),
            ("email", "dan@gw01.fabrikam.example"),
        ],
    ),
    (
        "cfg-008",
        ["by"],
        f"""{{
  "type": "service_account",
  "project_id": "bya-rostering-prod",
  "private_key_id": "3f9a1c2b7e8d4f6a0b5c9d2e1f3a4b6c8d0e2f4a",
  "private_key": "{GCP_KEY_ESCAPED}",
  "client_email": "roster-sync@bya-rostering-prod.iam.gserviceaccount.com",
  "client_id": "104882391726354819203",
  "token_uri": "https://oauth2.googleapis.com/token"
}}""",
        [
            ("secret", GCP_KEY_ESCAPED[: GCP_KEY_ESCAPED.index("-----\\n", 40) + 5]),
            ("email", "roster-sync@bya-rostering-prod.iam.gserviceaccount.com"),
        ],
    ),
    (
        "cfg-009",
        ["lh"],
        """DefaultEndpointsProtocol=https;AccountName=lamnaexports;AccountKey=q3Zt8Xv2Lm7Qp4Tz8Wn1Bc6Yd3Hf5Jg0Ks2Ua9Ve4Ri1Oy7Pw3Ex6Dz5Cq8Bn2Am4Lk7Jh0Gf3Ds6Fa9Sd2Fg5Hj8Kl1Zx4Cv7Bn0Mq==;EndpointSuffix=core.windows.net
Blob SAS URL: https://lamnaexports.blob.core.windows.net/patients?sp=r&st=2026-11-25T09:00:00Z&se=2026-11-26T09:00:00Z&spr=https&sv=2022-11-02&sr=c&sig=Xk3v9Qm2Lp7Rt4Wz8Yn1Bc6Dh5Fj0Gs2Ua9Ve4Ri1Oy7%3D""",
        [
            (
                "secret",
                "q3Zt8Xv2Lm7Qp4Tz8Wn1Bc6Yd3Hf5Jg0Ks2Ua9Ve4Ri1Oy7Pw3Ex6Dz5Cq8Bn2Am4Lk7Jh0Gf3Ds6Fa9Sd2Fg5Hj8Kl1Zx4Cv7Bn0Mq==",
            ),
            (
                "url",
                "https://lamnaexports.blob.core.windows.net/patients?sp=r&st=2026-11-25T09:00:00Z&se=2026-11-26T09:00:00Z&spr=https&sv=2022-11-02&sr=c&sig=Xk3v9Qm2Lp7Rt4Wz8Yn1Bc6Dh5Fj0Gs2Ua9Ve4Ri1Oy7%3D",
            ),
        ],
    ),
    (
        "cfg-010",
        ["hi"],
        """# .env for claims-portal (hi-claims-prod)
NODE_ENV=production
DATABASE_URL=postgres://claims:H0ng0us!Cl@ims@db.humongousinsurance.com:5432/claims
SESSION_SECRET=b7Yq2Lm9Xv4Rt8Wn3Kc6Jd1Hf5Pz0Gs
STRIPE_SECRET_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc
SENTRY_DSN=https://public@o12345.ingest.sentry.io/67890
LOG_LEVEL=info""",
        [
            ("environment", "hi-claims-prod"),
            ("secret", "H0ng0us!Cl@ims"),
            ("hostname", "db.humongousinsurance.com"),
            ("secret", "b7Yq2Lm9Xv4Rt8Wn3Kc6Jd1Hf5Pz0Gs"),
            ("secret", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
            ("url", "https://public@o12345.ingest.sentry.io/67890"),
        ],
    ),
    (
        "cfg-011",
        ["tt"],
        """<settings>
  <servers>
    <server>
      <id>tailspin-nexus</id>
      <username>rahul.mehta</username>
      <password>Ts!Nexus-Deploy-88</password>
    </server>
  </servers>
  <mirrors>
    <mirror><id>central</id><url>https://nexus.tailspin.example/repository/maven-public/</url><mirrorOf>*</mirrorOf></mirror>
  </mirrors>
</settings>""",
        [
            ("secret", "Ts!Nexus-Deploy-88"),
            ("url", "https://nexus.tailspin.example/repository/maven-public/"),
            ("organisation", "tailspin"),
            ("contact", "rahul.mehta"),
        ],
    ),
    (
        "cfg-012",
        ["fc"],
        """//registry.npmjs.org/:_authToken=npm_Xk3v9Qm2Lp7Rt4Wz8Yn1Bc6Dh5Fj0Gs2Ua9V
@fourthcoffee:registry=https://npm.fourthcoffee.com/
//npm.fourthcoffee.com/:_authToken=fc-7d2a9e4b-1c3f-4a5b-8d6e-0f1a2b3c4d5e
always-auth=true""",
        [
            ("secret", "npm_Xk3v9Qm2Lp7Rt4Wz8Yn1Bc6Dh5Fj0Gs2Ua9V"),
            ("organisation", "fourthcoffee"),
            ("url", "https://npm.fourthcoffee.com/"),
            ("hostname", "npm.fourthcoffee.com"),
            ("secret", "fc-7d2a9e4b-1c3f-4a5b-8d6e-0f1a2b3c4d5e"),
        ],
    ),
    (
        "cfg-013",
        ["nw"],
        """curl -X POST https://api.northwind.example/claims/v2/submit \\
  -H "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtY2xhaW1zIiwiaXNzIjoiaHR0cHM6Ly9sb2dpbi5ub3J0aHdpbmQuZXhhbXBsZSIsInNjb3BlIjoiY2xhaW1zLndyaXRlIn0.3q2vX9kLm4Pz7Rt1Yw8Nc5Bd6Fh0Gj2Ks4Ua9Ve" \\
  -H "Content-Type: application/json" \\
  -d '{"policy":"NW-44-118822","amount":1250.00}'""",
        [
            ("url", "https://api.northwind.example/claims/v2/submit"),
            (
                "secret",
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtY2xhaW1zIiwiaXNzIjoiaHR0cHM6Ly9sb2dpbi5ub3J0aHdpbmQuZXhhbXBsZSIsInNjb3BlIjoiY2xhaW1zLndyaXRlIn0.3q2vX9kLm4Pz7Rt1Yw8Nc5Bd6Fh0Gj2Ks4Ua9Ve",
            ),
        ],
    ),
    (
        "cfg-014",
        ["wg"],
        """curl -u svc_monitor:Wgb-M0n!tor-2026 https://grafana.wgb.internal/api/dashboards/uid/payments
curl -H 'Authorization: Basic c3ZjX21vbml0b3I6V2diLU0wbiF0b3ItMjAyNg==' https://grafana.wgb.internal/api/health""",
        [
            ("secret", "Wgb-M0n!tor-2026"),
            ("url", "https://grafana.wgb.internal/api/dashboards/uid/payments"),
            ("secret", "c3ZjX21vbml0b3I6V2diLU0wbiF0b3ItMjAyNg=="),
            ("url", "https://grafana.wgb.internal/api/health"),
        ],
    ),
    (
        "cfg-015",
        ["lt"],
        """apiVersion: v1
kind: Secret
metadata:
  name: claims-secrets
  namespace: litware-live
type: Opaque
stringData:
  DB_PASSWORD: "L1tw@re-Cl4ims-DB"
  OIDC_CLIENT_SECRET: "Vq7~Lx2.Rt9-Wm4_Kc8Jd1Hf5Pz0Gs3Ua6Ye"
  SLACK_WEBHOOK: "https://hooks.slack.com/services/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\"""",
        [
            ("environment", "litware-live"),
            ("secret", "L1tw@re-Cl4ims-DB"),
            ("secret", "Vq7~Lx2.Rt9-Wm4_Kc8Jd1Hf5Pz0Gs3Ua6Ye"),
            (
                "secret",
                "https://hooks.slack.com/services/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",
            ),
        ],
    ),
    (
        "cfg-016",
        ["pw"],
        """version: "3.8"
services:
  runtime:
    image: vendor/runtime:10.4.2
    environment:
      - DB_HOST=db.proseware.de
      - DB_USER=runtime
      - DB_PASS=Pw-Runt1me-Db!
      - GITHUB_TOKEN=ghp_8Hc2Lm7Qp4Tz9Wn1Bv6Yd3Xf5Jg0Ks2Ra4E
    ports:
      - "8080:8080\"""",
        [
            ("hostname", "db.proseware.de"),
            ("secret", "Pw-Runt1me-Db!"),
            ("secret", "ghp_8Hc2Lm7Qp4Tz9Wn1Bv6Yd3Xf5Jg0Ks2Ra4E"),
        ],
    ),
    (
        "cfg-017",
        ["aw"],
        """# runtime.properties on awprdapp01
entityCache.maxEntries=200000
smtp.host=smtp.adventure-works.com
smtp.user=orders-noreply@adventure-works.com
smtp.password=0rd3rs-Sm7p#AW
api.key=AIzaSyD8x3Qm9Lp2Rt7Wz4Yn1Bc6Dh5Fj0Gs2Ua
keystore.path=/opt/vendor/conf/keystore.p12
keystore.password=changeit""",
        [
            ("hostname", "awprdapp01"),
            ("hostname", "smtp.adventure-works.com"),
            ("email", "orders-noreply@adventure-works.com"),
            ("secret", "0rd3rs-Sm7p#AW"),
            ("secret", "AIzaSyD8x3Qm9Lp2Rt7Wz4Yn1Bc6Dh5Fj0Gs2Ua"),
            ("secret", "changeit"),
        ],
    ),
    (
        "cfg-018",
        ["ch"],
        """Carol pasted the Gateway's registration output:
Registering gateway 'ch-prod-gw' with the Cloud...
  client_id     = 4b7e2a91-3c5d-4f6e-8a9b-0c1d2e3f4a5b
  client_secret = Gw.Reg~7Xq2Lm9Vt4Rp8Wn3Kc6Jd1Hf5Pz0Gs
Registration complete. Token cached in C:\\Users\\carol.contoso\\AppData\\Local\\Vendor\\gateway.token""",
        [
            ("contact", "Carol"),
            ("environment", "ch-prod"),
            ("secret", "Gw.Reg~7Xq2Lm9Vt4Rp8Wn3Kc6Jd1Hf5Pz0Gs"),
            ("path", "C:\\Users\\carol.contoso"),
        ],
    ),
    (
        "cfg-019",
        ["fr"],
        """[gateway]
cloud_url = https://relay.cloud.vendor.example
site_id = fr-prod
api_token = frgw_4Kd9Xm2Lq7Vt3Rp8Wn1Bc6Yh5Jf0Gs
log_file = /var/log/vendor/gateway.log
proxy = http://dan:Fabr1k@m-Pr0xy@proxy.fabrikam.example:3128""",
        [
            ("environment", "fr-prod"),
            ("secret", "frgw_4Kd9Xm2Lq7Vt3Rp8Wn1Bc6Yh5Jf0Gs"),
            ("url", "http://dan:Fabr1k@m-Pr0xy@proxy.fabrikam.example:3128"),
        ],
    ),
    (
        "cfg-020",
        ["tt"],
        f"""The TLS key of booking.tailspin.example, from /etc/nginx/ssl/booking.key:
{PEM_PKCS8}
(Rahul says it was generated in 2025.)""",
        [
            ("hostname", "booking.tailspin.example"),
            ("secret", PEM_PKCS8),
            ("contact", "Rahul"),
        ],
    ),
    (
        "cfg-021",
        ["lh"],
        """spring:
  mail:
    host: smtp.lamnahealthcare.com
    port: 587
    username: noreply@lamnahealthcare.com
    password: Lamna#Mail!2026
  security:
    oauth2:
      client:
        registration:
          azure:
            client-id: 9f8e7d6c-5b4a-3c2d-1e0f-a9b8c7d6e5f4
            client-secret: Zx38Q~aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z""",
        [
            ("hostname", "smtp.lamnahealthcare.com"),
            ("email", "noreply@lamnahealthcare.com"),
            ("secret", "Lamna#Mail!2026"),
            ("secret", "Zx38Q~aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z"),
        ],
    ),
    (
        "cfg-022",
        ["hi"],
        """{
  "ConnectionStrings": {
    "Claims": "Server=tcp:hi-claims-sql.database.windows.net,1433;Initial Catalog=claims;User ID=claimsadmin;Password=Hum0ng0us$QL!;Encrypt=True;"
  },
  "Jwt": { "SigningKey": "hK9vQ2mL7pR4tW8nB1cD6hF3jG0sA5eZ" },
  "Logging": { "LogLevel": { "Default": "Warning" } }
}""",
        [
            ("hostname", "hi-claims-sql.database.windows.net"),
            ("secret", "Hum0ng0us$QL!"),
            ("secret", "hK9vQ2mL7pR4tW8nB1cD6hF3jG0sA5eZ"),
        ],
    ),
    (
        "cfg-023",
        ["by"],
        """export AWS_ACCESS_KEY_ID=AKIAVB7Q2MX9ZR4LT8NP
export AWS_SECRET_ACCESS_KEY=mR4tW8nB1cD6hF3jG0sA5eZ9vQ2mL7pRx3Kq8Yv1
export SLACK_TOKEN=xoxb-2841736492-8815342765019-Kd9Xm2Lq7Vt3Rp8Wn1Bc6Yh5
./roster-sync --env bya-prod --dry-run""",
        [
            ("secret", "AKIAVB7Q2MX9ZR4LT8NP"),
            ("secret", "mR4tW8nB1cD6hF3jG0sA5eZ9vQ2mL7pRx3Kq8Yv1"),
            ("secret", "xoxb-2841736492-8815342765019-Kd9Xm2Lq7Vt3Rp8Wn1Bc6Yh5"),
            ("environment", "bya-prod"),
        ],
    ),
    (
        "cfg-024",
        ["fc"],
        """Marcus: the flag service reads its config from /home/mlee/flags/config.toml:
[server]
bind = "0.0.0.0:8443"
[auth]
admin_token = "fc_adm_Qx7Lm2Vt9Rp4Wn8Kc3Jd6Hf1Pz5Gs0Ua"
[store]
dsn = "postgresql://flags:Fl4gs!Store@10.70.2.9:5432/flags\"""",
        [
            ("contact", "Marcus"),
            ("path", "/home/mlee"),
            ("secret", "fc_adm_Qx7Lm2Vt9Rp4Wn8Kc3Jd6Hf1Pz5Gs0Ua"),
            ("secret", "Fl4gs!Store"),
            ("ip", "10.70.2.9"),
        ],
    ),
    (
        "cfg-025",
        ["nw"],
        """-- psql session pasted by Alice
claims=> \\conninfo
You are connected to database "claims" as user "claims_app" on host "claims-db.northwind.example" (address "10.20.31.5") at port "5432".
claims=> ALTER USER claims_report WITH PASSWORD 'Rep0rt!ng-2026';
ALTER ROLE""",
        [
            ("contact", "Alice"),
            ("hostname", "claims-db.northwind.example"),
            ("ip", "10.20.31.5"),
            ("secret", "Rep0rt!ng-2026"),
        ],
    ),
    (
        "cfg-026",
        ["wg"],
        """Tomasz's Ansible vars (group_vars/wgb-prod.yml):
vault_pg_password: "Wgb#Pay-2026-q4"
vault_keystore_pass: 'K3yst0re!Wgb'
ntp_servers: [ 10.44.0.1, 10.44.0.2 ]
dns: [ 8.8.8.8 ]""",
        [
            ("contact", "Tomasz"),
            ("environment", "wgb-prod"),
            ("secret", "Wgb#Pay-2026-q4"),
            ("secret", "K3yst0re!Wgb"),
            ("ip", "10.44.0.1"),
            ("ip", "10.44.0.2"),
        ],
    ),
    (
        "cfg-027",
        ["lt"],
        """<Resource name="jdbc/claims" auth="Container" type="javax.sql.DataSource"
          driverClassName="oracle.jdbc.OracleDriver"
          url="jdbc:oracle:thin:@//orcl-claims.litware.corp:1521/CLAIMS"
          username="claims_app" password="Lw0racle#Cl4ims"
          maxTotal="50" maxIdle="10" validationQuery="SELECT 1 FROM DUAL"/>""",
        [
            ("hostname", "orcl-claims.litware.corp"),
            ("secret", "Lw0racle#Cl4ims"),
        ],
    ),
    (
        "cfg-028",
        ["pw"],
        """Hannah: "I tried the webhook with our Stripe test key and with the live one: rk_live_51Hq2Lm7Qp4Tz8Wn1Bc6Yd3X — same error."
Also the Sendgrid key from our config: 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""",
        [
            ("contact", "Hannah"),
            ("secret", "rk_live_51Hq2Lm7Qp4Tz8Wn1Bc6Yd3X"),
            ("secret", "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"),
        ],
    ),
    (
        "cfg-029",
        ["aw"],
        """GitLab CI variables exported by Aoife:
CI_REGISTRY_PASSWORD=glpat-Xk3v9Qm2Lp7Rt4Wz8Yn1
DEPLOY_HOST=awprdapp01.adventure-works.com
DEPLOY_SSH_KEY_PASSPHRASE=Aw-Deploy#88""",
        [
            ("contact", "Aoife"),
            ("secret", "glpat-Xk3v9Qm2Lp7Rt4Wz8Yn1"),
            ("hostname", "awprdapp01.adventure-works.com"),
            ("secret", "Aw-Deploy#88"),
        ],
    ),
    (
        "cfg-030",
        ["ch"],
        """Siobhán's proxy PAC file has: return "PROXY proxy01.contoso.example:8080; DIRECT";
and the Gateway's proxy.json: {"proxyUser": "CONTOSO\\\\svc_gateway", "proxyPassword": "C0nt0so-Pr0xy-26"}""",
        [
            ("contact", "Siobhán"),
            ("hostname", "proxy01.contoso.example"),
            ("organisation", "CONTOSO"),
            ("secret", "C0nt0so-Pr0xy-26"),
        ],
    ),
    (
        "cfg-031",
        ["fr"],
        """mongodb+srv://stock_ro:St0ck%21Read@stock-cluster.fabrikam.example/stock?retryWrites=true&w=majority
amqps://gw:Rabb1t-Fr-Gw@mq.fabrikam.example:5671/fr-prod""",
        [
            ("secret", "St0ck%21Read"),
            ("hostname", "stock-cluster.fabrikam.example"),
            ("secret", "Rabb1t-Fr-Gw"),
            ("hostname", "mq.fabrikam.example"),
            ("environment", "fr-prod"),
        ],
    ),
    (
        "cfg-032",
        ["tt"],
        """Erin's terraform.tfvars (please rotate!):
azure_client_secret = "Tt8Q~Xk3v9Qm2Lp7Rt4Wz8Yn1Bc6Dh5Fj0Gs2Ua"
github_pat          = "github_pat_11ABCDE2Y0Xk3v9Qm2Lp7R_t4Wz8Yn1Bc6Dh5Fj0Gs2Ua9Ve4Ri1Oy7Pw3Ex6Dz5Cq8Bn2Am4Lk7Jh"
location            = "uksouth\"""",
        [
            ("contact", "Erin"),
            ("secret", "Tt8Q~Xk3v9Qm2Lp7Rt4Wz8Yn1Bc6Dh5Fj0Gs2Ua"),
            (
                "secret",
                "github_pat_11ABCDE2Y0Xk3v9Qm2Lp7R_t4Wz8Yn1Bc6Dh5Fj0Gs2Ua9Ve4Ri1Oy7Pw3Ex6Dz5Cq8Bn2Am4Lk7Jh",
            ),
        ],
    ),
    (
        "cfg-033",
        ["lh"],
        """OpenAI integration test by Jean-Luc:
OPENAI_API_KEY=sk-proj-Xk3v9Qm2Lp7Rt4Wz8Yn1Bc6Dh5Fj0Gs2Ua9Ve4Ri1Oy7Pw3Ex6D
curl https://api.openai.com/v1/models -H "Authorization: Bearer $OPENAI_API_KEY\"""",
        [
            ("contact", "Jean-Luc"),
            ("secret", "sk-proj-Xk3v9Qm2Lp7Rt4Wz8Yn1Bc6Dh5Fj0Gs2Ua9Ve4Ri1Oy7Pw3Ex6D"),
        ],
    ),
    (
        "cfg-034",
        ["hi"],
        """Grace shared the SAML settings: IdP https://login.microsoftonline.com/7c1e9d2a-4b3f-4e5d-9a8b-1c2d3e4f5a6b/saml2, SP entity https://claims.humongousinsurance.com/saml/metadata, signing certificate thumbprint 3F2A9C1B7E8D4F6A0B5C9D2E1F3A4B6C8D0E2F4A. Test account will.turner.test@humongousinsurance.com / password: HiTest!2026""",
        [
            ("contact", "Grace"),
            ("url", "https://claims.humongousinsurance.com/saml/metadata"),
            ("email", "will.turner.test@humongousinsurance.com"),
            ("secret", "HiTest!2026"),
        ],
    ),
    (
        "cfg-035",
        ["by"],
        """Sofia's Windows scheduled task runs: C:\\Users\\srossi\\roster\\sync.cmd --user BYA\\svc_roster --password "Bya R0ster Sync 26" --env bya-prod""",
        [
            ("contact", "Sofia"),
            ("path", "C:\\Users\\srossi"),
            ("secret", "Bya R0ster Sync 26"),
            ("environment", "bya-prod"),
        ],
    ),
    (
        "cfg-036",
        ["fc"],
        """Emma: the payment provider posts to our webhook with a shared secret.
webhook:
  url: https://hooks.fourthcoffee.com/payments
  secret: whsec_Qx7Lm2Vt9Rp4Wn8Kc3Jd6Hf1Pz5Gs0Ua
  tolerance_seconds: 300""",
        [
            ("contact", "Emma"),
            ("url", "https://hooks.fourthcoffee.com/payments"),
            ("secret", "whsec_Qx7Lm2Vt9Rp4Wn8Kc3Jd6Hf1Pz5Gs0Ua"),
        ],
    ),
    (
        "cfg-037",
        ["nw"],
        """Bob: our Kafka client config for the claims events:
bootstrap.servers=kafka-1.northwind.example:9093,kafka-2.northwind.example:9093
security.protocol=SASL_SSL
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="claims-events" password="Nw-K4fka-Ev3nts!";
ssl.truststore.location=/opt/kafka/truststore.jks""",
        [
            ("contact", "Bob"),
            ("hostname", "kafka-1.northwind.example"),
            ("hostname", "kafka-2.northwind.example"),
            ("secret", "Nw-K4fka-Ev3nts!"),
        ],
    ),
    (
        "cfg-038",
        ["wg"],
        """Priya forwarded the Vault output:
$ vault kv get secret/payments/prod
====== Data ======
Key         Value
---         -----
api_key     wgb_pk_7Hc2Lm9Qp4Tz8Wn1Bv6Yd3Xf5Jg0Ks2
db_pass     Wgb#Pay-2026-q4""",
        [
            ("contact", "Priya"),
            ("secret", "wgb_pk_7Hc2Lm9Qp4Tz8Wn1Bv6Yd3Xf5Jg0Ks2"),
            ("secret", "Wgb#Pay-2026-q4"),
        ],
    ),
    (
        "cfg-039",
        ["lt"],
        """Mei's browser cookie export for apps.litware.com:
.apps.litware.com	TRUE	/	TRUE	1795000000	LWSESSION	8dF3kL9pQ2xV7mN4rT1wZ6cB5hJ0gY3uS
.apps.litware.com	TRUE	/	FALSE	1795000000	lw_lang	en""",
        [
            ("contact", "Mei"),
            ("hostname", "apps.litware.com"),
            ("secret", "8dF3kL9pQ2xV7mN4rT1wZ6cB5hJ0gY3uS"),
        ],
    ),
]
