# ruff: noqa: E501 (corpus texts are kept as written, one line per log line)
"""Log excerpts, stack traces and shell sessions."""

from __future__ import annotations

ITEMS = [
    (
        "log-001",
        ["nw"],
        """2026-11-25 08:40:12,381 ERROR [http-nio-8080-exec-17] c.v.r.gateway.UpstreamClient - request to https://api.northwind.example/claims/v2/submit failed: java.net.SocketTimeoutException: Read timed out
2026-11-25 08:40:12,382 WARN  [http-nio-8080-exec-17] c.v.r.gateway.Retry - retry 1/3 in 500 ms (client 10.20.30.41, user alice@northwind.example)
2026-11-25 08:40:13,001 INFO  [main] o.a.c.h.Http11NioProtocol - Pausing ProtocolHandler ["http-nio-8080"]""",
        [
            ("url", "https://api.northwind.example/claims/v2/submit"),
            ("ip", "10.20.30.41"),
            ("email", "alice@northwind.example"),
        ],
    ),
    (
        "log-002",
        ["wg"],
        """Caused by: org.postgresql.util.PSQLException: Connection to pg-primary.wgb.internal:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.
	at org.postgresql.core.v3.ConnectionFactoryImpl.openConnectionImpl(ConnectionFactoryImpl.java:342)
	at org.postgresql.core.ConnectionFactory.openConnection(ConnectionFactory.java:54)
	at org.postgresql.jdbc.PgConnection.<init>(PgConnection.java:263)
	at com.zaxxer.hikari.pool.PoolBase.newConnection(PoolBase.java:364)
	... 48 common frames omitted""",
        [("hostname", "pg-primary.wgb.internal")],
    ),
    (
        "log-003",
        ["lt"],
        """172.16.40.21 - - [25/Nov/2026:09:14:02 +0000] "GET /claims/home HTTP/1.1" 302 0 "https://sso.litware.com/adfs/ls/?SAMLRequest=fZJNT8MwDIbv" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
172.16.40.22 - mchen [25/Nov/2026:09:14:02 +0000] "GET /claims/login;jsessionid=A81F3C2E9B7D4F10A2C4E6F8B0D2E4F6 HTTP/1.1" 200 5120 "-" "Mozilla/5.0"
203.0.113.45 - - [25/Nov/2026:09:14:03 +0000] "POST /claims/api/session HTTP/1.1" 401 87 "-" "curl/8.5.0\"""",
        [
            ("ip", "172.16.40.21"),
            ("url", "https://sso.litware.com/adfs/ls/?SAMLRequest=fZJNT8MwDIbv"),
            ("ip", "172.16.40.22"),
            ("contact", "mchen"),
            ("secret", "A81F3C2E9B7D4F10A2C4E6F8B0D2E4F6"),
            ("ip", "203.0.113.45"),
        ],
    ),
    (
        "log-004",
        ["aw"],
        """java.lang.OutOfMemoryError: Java heap space
Dumping heap to /var/dumps/java_pid20931.hprof ...
Heap dump file created [4294967296 bytes in 38.112 secs]
2026-11-25T10:02:44.118Z ERROR awprdapp01 order-service[20931]: Exception in thread "scheduler-4" java.lang.OutOfMemoryError: Java heap space
	at java.base/java.util.Arrays.copyOf(Arrays.java:3537)
	at com.vendor.runtime.cache.EntityCache.put(EntityCache.java:211)""",
        [("hostname", "awprdapp01")],
    ),
    (
        "log-005",
        ["ch"],
        """[2026-11-25 14:01:07] gateway-agent INFO  Connecting to relay wss://relay.cloud.vendor.example/agent (attempt 12)
[2026-11-25 14:01:07] gateway-agent ERROR TLS handshake failed: certificate verify failed (self signed certificate in certificate chain) via proxy http://proxy01.contoso.example:8080
[2026-11-25 14:01:07] gateway-agent INFO  Local database chsql01\\GATEWAY reachable, 3 pending Entity syncs""",
        [
            ("url", "http://proxy01.contoso.example:8080"),
            ("hostname", "chsql01"),
        ],
    ),
    (
        "log-006",
        ["pw"],
        """Nov 25 06:00:14 pw-app-03 sshd[1442]: Accepted publickey for hschmidt from 192.0.2.77 port 51122 ssh2: RSA SHA256:ZdqvJ6Zl2Jx8fO5m6bWq0e6GZr8n1Q2h3k4l5m6n7o8
Nov 25 06:00:15 pw-app-03 sudo:  hschmidt : TTY=pts/0 ; PWD=/home/hschmidt ; USER=root ; COMMAND=/usr/bin/systemctl restart vendor-runtime
Nov 25 06:00:21 pw-app-03 vendor-runtime[2210]: LDAP bind to ldaps://dc01.proseware.de:636 failed: Invalid credentials""",
        [
            ("ip", "192.0.2.77"),
            ("contact", "hschmidt"),
            ("path", "/home/hschmidt"),
            ("hostname", "dc01.proseware.de"),
        ],
    ),
    (
        "log-007",
        ["fr"],
        """2026-11-24 21:14:03.512 [gw-heartbeat] WARN  GatewayLink - lost connection to cloud (last ack 21:13:33), local endpoint gw01.fabrikam.example/10.60.1.15:7443
2026-11-24 21:14:08.513 [gw-heartbeat] INFO  GatewayLink - reconnecting with token eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJndy1mci1wcm9kIiwiYXVkIjoicmVsYXkiLCJleHAiOjE3OTQ0MzkyMDB9.kY3l8Q2V0bH9aR5cT1wN7xM4pZ6sJ0dF2gH8uB3vC5nL1qE9rW7tYx
2026-11-24 21:14:08.901 [gw-heartbeat] ERROR GatewayLink - 401 Unauthorized""",
        [
            ("hostname", "gw01.fabrikam.example"),
            ("ip", "10.60.1.15"),
            (
                "secret",
                "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJndy1mci1wcm9kIiwiYXVkIjoicmVsYXkiLCJleHAiOjE3OTQ0MzkyMDB9.kY3l8Q2V0bH9aR5cT1wN7xM4pZ6sJ0dF2gH8uB3vC5nL1qE9rW7tYx",
            ),
        ],
    ),
    (
        "log-008",
        ["lh"],
        """2026/11/25 09:31:44 [error] 1432#1432: *88123 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 198.51.100.201, server: portal.lamnahealthcare.com, request: "GET /patients?lang=fr HTTP/2.0", upstream: "http://10.8.0.21:8080/patients?lang=fr", host: "portal.lamnahealthcare.com\"""",
        [
            ("ip", "198.51.100.201"),
            ("hostname", "portal.lamnahealthcare.com"),
            ("ip", "10.8.0.21"),
        ],
    ),
    (
        "log-009",
        ["hi"],
        """{"ts":"2026-11-25T16:02:11.004Z","level":"ERROR","logger":"com.vendor.security.SessionRegistry","msg":"session bound to wrong principal","session":"9c1f2e3d4b5a69788796a5b4c3d2e1f0","principal":"grace.okafor@humongousinsurance.com","expected":"claims-agent-0412","remote":"10.12.4.88","env":"hi-claims-prod"}""",
        [
            ("secret", "9c1f2e3d4b5a69788796a5b4c3d2e1f0"),
            ("email", "grace.okafor@humongousinsurance.com"),
            ("ip", "10.12.4.88"),
            ("environment", "hi-claims-prod"),
        ],
    ),
    (
        "log-010",
        ["tt"],
        """Exception in thread "main" java.lang.IllegalStateException: Failed to load ApplicationContext
Caused by: org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'dataSource': Could not connect to jdbc:mysql://db-booking.tailspin.example:3306/bookings?user=booking_app&password=Bk9!mzQ2vTx&useSSL=true
	at org.springframework.beans.factory.support.AbstractAutowireCapableBeanFactory.initializeBean(AbstractAutowireCapableBeanFactory.java:1786)""",
        [
            ("hostname", "db-booking.tailspin.example"),
            ("secret", "Bk9!mzQ2vTx"),
        ],
    ),
    (
        "log-011",
        ["by"],
        """time="2026-11-25T02:03:44Z" level=error msg="rostering sync failed" err="Post \\"https://api.blueyonderairlines.com/v2/rosters/sync\\": dial tcp 10.99.3.14:443: i/o timeout" pod=roster-sync-7d9f8b6c5-x2k4q namespace=bya-prod""",
        [
            ("url", "https://api.blueyonderairlines.com/v2/rosters/sync"),
            ("ip", "10.99.3.14"),
            ("environment", "bya-prod"),
        ],
    ),
    (
        "log-012",
        ["fc"],
        """E/AndroidRuntime(12034): FATAL EXCEPTION: main
E/AndroidRuntime(12034): Process: com.fourthcoffee.loyalty, PID: 12034
E/AndroidRuntime(12034): java.lang.IllegalArgumentException: Unknown flag 'checkout_v3' from https://flags.fourthcoffee.com/api/v1/flags?app=loyalty
E/AndroidRuntime(12034): 	at com.fourthcoffee.loyalty.flags.FlagClient.parse(FlagClient.kt:88)""",
        [
            ("organisation", "fourthcoffee"),
            ("url", "https://flags.fourthcoffee.com/api/v1/flags?app=loyalty"),
        ],
    ),
    (
        "log-013",
        ["nw"],
        """$ kubectl -n nw-prod get pods -o wide
NAME                              READY   STATUS             RESTARTS   AGE   IP            NODE
claims-api-6f7c9d8b5-4xk2p        0/1     CrashLoopBackOff   14         52m   10.244.3.17   ip-10-0-12-34.eu-west-1.compute.internal
claims-api-6f7c9d8b5-9mz7q        1/1     Running            0          52m   10.244.1.9    ip-10-0-14-201.eu-west-1.compute.internal""",
        [
            ("environment", "nw-prod"),
            ("ip", "10.244.3.17"),
            ("hostname", "ip-10-0-12-34.eu-west-1.compute.internal"),
            ("ip", "10.244.1.9"),
            ("hostname", "ip-10-0-14-201.eu-west-1.compute.internal"),
        ],
    ),
    (
        "log-014",
        ["wg"],
        """[root@wgbapp01 ~]# curl -sv https://payments.wgb.internal/health
*   Trying 10.44.20.5:443...
* Connected to payments.wgb.internal (10.44.20.5) port 443
* SSL certificate problem: unable to get local issuer certificate
* Closing connection 0""",
        [
            ("url", "https://payments.wgb.internal/health"),
            ("ip", "10.44.20.5"),
            ("hostname", "payments.wgb.internal"),
        ],
    ),
    (
        "log-015",
        ["lt"],
        """PS C:\\Users\\mchen> Test-NetConnection -ComputerName apps.litware.com -Port 443

ComputerName     : apps.litware.com
RemoteAddress    : 172.16.40.10
RemotePort       : 443
InterfaceAlias   : Ethernet0
SourceAddress    : 172.16.8.54
TcpTestSucceeded : True""",
        [
            ("path", "C:\\Users\\mchen"),
            ("hostname", "apps.litware.com"),
            ("ip", "172.16.40.10"),
            ("ip", "172.16.8.54"),
        ],
    ),
    (
        "log-016",
        ["ch"],
        """C:\\Program Files\\Vendor\\Gateway> gateway.exe diagnose
Gateway version 10.4.2 (build 7731)
Database: Server=CHSQL01\\GATEWAY;Database=GatewayDb;User Id=gw_svc;Password=Ch#Gw2026!prod;Encrypt=True
Relay: wss://relay.cloud.vendor.example/agent ... FAILED (407 Proxy Authentication Required)
Proxy: http://proxy01.contoso.example:8080 (user CONTOSO\\s.obrien)""",
        [
            ("hostname", "CHSQL01"),
            ("secret", "Ch#Gw2026!prod"),
            ("url", "http://proxy01.contoso.example:8080"),
            ("organisation", "CONTOSO"),
        ],
    ),
    (
        "log-017",
        ["aw"],
        """oluwaseun@awprdapp01:~$ sudo journalctl -u order-service --since "10 min ago" | tail -3
Nov 25 10:02:40 awprdapp01 java[20931]: GC (Allocation Failure) 3.9G->3.9G(4.0G), 1.812 secs
Nov 25 10:02:44 awprdapp01 java[20931]: java.lang.OutOfMemoryError: Java heap space
Nov 25 10:02:45 awprdapp01 systemd[1]: order-service.service: Main process exited, code=exited, status=3/NOTIMPLEMENTED""",
        [("hostname", "awprdapp01")],
    ),
    (
        "log-018",
        ["pw"],
        """2026-11-25 06:00:21,114 ERROR [ldap-pool-2] c.v.s.ldap.LdapAuthenticator - bind failed for uid=hschmidt,ou=people,dc=proseware,dc=de at ldaps://dc01.proseware.de:636 (bindDN cn=svc-vendor,ou=service,dc=proseware,dc=de, bindPassword=Pr0s3w@re-LDAP!)""",
        [
            ("hostname", "dc01.proseware.de"),
            ("secret", "Pr0s3w@re-LDAP!"),
            ("organisation", "proseware"),
            ("contact", "hschmidt"),
        ],
    ),
    (
        "log-019",
        ["fr"],
        """GET /api/stock?store=118 HTTP/1.1
Host: stock.fabrikam.example
Authorization: Bearer 7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88ca4a1b2c3d4e5f60
Accept: application/json
X-Request-Id: 3e1a6f2c-8b4d-4f0e-9a7c-2d5b6e8f1a3c""",
        [
            ("hostname", "stock.fabrikam.example"),
            ("secret", "7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88ca4a1b2c3d4e5f60"),
        ],
    ),
    (
        "log-020",
        ["tt"],
        """HTTP/1.1 200 OK
Set-Cookie: TSBOOKING_SESSION=s%3AkT9vP2xQ7mN4rL8wZ1cB5dF3.hJ6gY0uI2oE4aS8dF1gH3jK5lZ7xC9vB; Path=/; HttpOnly; Secure; SameSite=Lax
Set-Cookie: locale=en-GB; Path=/
Content-Type: text/html;charset=UTF-8""",
        [("secret", "s%3AkT9vP2xQ7mN4rL8wZ1cB5dF3.hJ6gY0uI2oE4aS8dF1gH3jK5lZ7xC9vB")],
    ),
    (
        "log-021",
        ["lh"],
        """Traceback (most recent call last):
  File "/home/jlmartin/scripts/export_patients.py", line 41, in <module>
    conn = psycopg2.connect("host=db01.lamnahealthcare.com dbname=patients user=exporter password=Lamna-Exp0rt-2026")
  File "/usr/lib/python3/dist-packages/psycopg2/__init__.py", line 122, in connect
psycopg2.OperationalError: could not connect to server: Connection refused""",
        [
            ("path", "/home/jlmartin"),
            ("hostname", "db01.lamnahealthcare.com"),
            ("secret", "Lamna-Exp0rt-2026"),
        ],
    ),
    (
        "log-022",
        ["hi"],
        """WARN  2026-11-25 16:05:00 [audit] login ok user=will.turner@humongousinsurance.com ip=81.2.69.160 ua="Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)" session=hi-9c1f2e3d
WARN  2026-11-25 16:05:02 [audit] claim view claim=CLM-2026-118842 by=will.turner@humongousinsurance.com""",
        [
            ("email", "will.turner@humongousinsurance.com"),
            ("ip", "81.2.69.160"),
            ("secret", "hi-9c1f2e3d"),
        ],
    ),
    (
        "log-023",
        ["nw"],
        """Events:
  Type     Reason     Age                  From     Message
  ----     ------     ----                 ----     -------
  Warning  Failed     3m (x5 over 6m)      kubelet  Failed to pull image "registry.northwind.example/claims/claims-api:10.4.2": rpc error: code = Unknown desc = failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized
  Normal   BackOff    60s (x20 over 6m)    kubelet  Back-off pulling image "registry.northwind.example/claims/claims-api:10.4.2\"""",
        [("hostname", "registry.northwind.example")],
    ),
    (
        "log-024",
        ["wg"],
        """2026-11-25 02:10:07 UTC [31442]: [3-1] user=wgb_app,db=payments,app=PostgreSQL JDBC Driver,client=10.44.20.11 FATAL:  password authentication failed for user "wgb_app"
2026-11-25 02:10:07 UTC [31442]: [4-1] user=wgb_app,db=payments,app=PostgreSQL JDBC Driver,client=10.44.20.11 DETAIL:  Connection matched pg_hba.conf line 98: "hostssl payments wgb_app 10.44.20.0/24 scram-sha-256\"""",
        [
            ("ip", "10.44.20.11"),
            ("ip", "10.44.20.0"),
        ],
    ),
    (
        "log-025",
        ["by"],
        """$ ssh -i ~/.ssh/bya_ops.pem ec2-user@ec2-52-19-7-188.eu-west-1.compute.amazonaws.com
Last login: Tue Nov 25 01:58:02 2026 from 91.198.174.192
[ec2-user@ip-10-99-3-14 ~]$ systemctl status roster-sync""",
        [
            ("hostname", "ec2-52-19-7-188.eu-west-1.compute.amazonaws.com"),
            ("ip", "91.198.174.192"),
        ],
    ),
    (
        "log-026",
        ["fc"],
        """12:03:55.018 [main] ERROR com.fourthcoffee.flags.Server - could not bind to 0.0.0.0:8443: Address already in use
12:03:55.019 [main] INFO  com.fourthcoffee.flags.Server - shutting down; contact marcus.lee@fourthcoffee.com""",
        [
            ("organisation", "fourthcoffee"),
            ("email", "marcus.lee@fourthcoffee.com"),
        ],
    ),
    (
        "log-027",
        ["lt"],
        """<Nov 25, 2026 9:20:44 AM UTC> <Error> <Security> <BEA-090134> <Could not authenticate user dalvarez@litware.com via LDAP server ldap.litware.corp:389: [LDAP: error code 49 - 80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563]>""",
        [
            ("email", "dalvarez@litware.com"),
            ("hostname", "ldap.litware.corp"),
        ],
    ),
    (
        "log-028",
        ["pw"],
        """Windows PowerShell
PS C:\\Users\\lars.eriksson> Invoke-WebRequest https://pw-prod-eu.proseware.de/api/health -UseBasicParsing
Invoke-WebRequest : The remote server returned an error: (503) Server Unavailable.
PS C:\\Users\\lars.eriksson> nslookup pw-prod-eu.proseware.de
Address:  10.30.0.12""",
        [
            ("path", "C:\\Users\\lars.eriksson"),
            ("url", "https://pw-prod-eu.proseware.de/api/health"),
            ("hostname", "pw-prod-eu.proseware.de"),
            ("ip", "10.30.0.12"),
        ],
    ),
    (
        "log-029",
        ["aw"],
        """2026-11-25 10:15:31.442 ERROR 20931 --- [nio-8443-exec-9] o.h.engine.jdbc.spi.SqlExceptionHelper   : Connection is not available, request timed out after 30000ms (jdbc:sqlserver://awprddb02.adventure-works.com:1433;databaseName=Orders;user=aw_orders;password=Adv3ntur3!Orders)""",
        [
            ("hostname", "awprddb02.adventure-works.com"),
            ("secret", "Adv3ntur3!Orders"),
        ],
    ),
    (
        "log-030",
        ["ch"],
        """Event ID 7031: The Vendor Gateway service terminated unexpectedly. It has done this 3 time(s).
Log Name: System  Computer: CHSQL01.contoso.example  User: CONTOSO\\svc_gateway
Faulting application path: C:\\Program Files\\Vendor\\Gateway\\gateway.exe
Report Id: 5f2b8c9e-1a3d-4e6f-8b7a-0c9d2e1f3a4b""",
        [("hostname", "CHSQL01.contoso.example"), ("organisation", "CONTOSO")],
    ),
    (
        "log-031",
        ["nw"],
        """root@nw-bastion:~# mysql -h 10.20.31.5 -u claims_ro -pR3adOnly!Claims claims -e "select count(*) from policy"
mysql: [Warning] Using a password on the command line interface can be insecure.
+----------+
| count(*) |
+----------+
|   418223 |
+----------+""",
        [
            ("ip", "10.20.31.5"),
            ("secret", "R3adOnly!Claims"),
        ],
    ),
    (
        "log-032",
        ["tt"],
        """rahul@TT-LAPTOP-22:/mnt/c/Users/rahul.mehta/work$ git clone https://rahul.mehta:ghp_4kX9mQ2vB7nL1pR8sT3wY6zA0cE5dF2gH4jK@github.com/tailspin-travel/booking-engine.git
Cloning into 'booking-engine'...""",
        [
            ("path", "/Users/rahul.mehta"),
            ("contact", "rahul.mehta"),
            ("secret", "ghp_4kX9mQ2vB7nL1pR8sT3wY6zA0cE5dF2gH4jK"),
            ("organisation", "tailspin-travel"),
        ],
    ),
    (
        "log-033",
        ["lh"],
        """[2026-11-25T09:33:00.441+01:00] vendor-runtime ERROR SMTP send failed: 535 5.7.8 Authentication credentials invalid (smtp.lamnahealthcare.com:587, user noreply@lamnahealthcare.com)""",
        [
            ("hostname", "smtp.lamnahealthcare.com"),
            ("email", "noreply@lamnahealthcare.com"),
        ],
    ),
    (
        "log-034",
        ["hi"],
        """2026-11-25 16:09:12 INFO  CloudAccess opened for eng1@vendor.example on hi-claims-prod (expires 16:39 UTC), justification "inspect session registry"; remote addr 2a00:23c7:9d1e:4b01:55f2:8c1d:11aa:9e3f""",
        [
            ("email", "eng1@vendor.example"),
            ("environment", "hi-claims-prod"),
            ("ip", "2a00:23c7:9d1e:4b01:55f2:8c1d:11aa:9e3f"),
        ],
    ),
    (
        "log-035",
        ["fr"],
        """$ openssl s_client -connect gw01.fabrikam.example:7443 -servername gw01.fabrikam.example
CONNECTED(00000003)
depth=0 CN = gw01.fabrikam.example
verify error:num=18:self-signed certificate
---
Server certificate
subject=CN = gw01.fabrikam.example
issuer=CN = gw01.fabrikam.example""",
        [("hostname", "gw01.fabrikam.example")],
    ),
    (
        "log-036",
        ["wg"],
        """2026-11-25T02:11:44Z app=payments level=warn msg="slow query" duration_ms=40211 query="SELECT * FROM transfers WHERE iban = $1" peer=10.44.12.7:5432 host=wgbapp01.wgb.internal""",
        [
            ("ip", "10.44.12.7"),
            ("hostname", "wgbapp01.wgb.internal"),
        ],
    ),
    (
        "log-037",
        ["nw"],
        """2026-11-25 08:41:02,004 DEBUG [http-nio-8080-exec-3] c.v.r.http.Wire - >> "Cookie: JSESSIONID=5E1B7A3C9D2F4E6A8B0C1D2E3F4A5B6C; nw_sso=eyJ1aWQiOiJhbGljZSIsInNpZCI6IjkxMmYzYSJ9.Zm9vYmFyYmF6cXV4[\\r][\\n]"
2026-11-25 08:41:02,005 DEBUG [http-nio-8080-exec-3] c.v.r.http.Wire - >> "Host: claims.northwind.example[\\r][\\n]\"""",
        [
            ("secret", "5E1B7A3C9D2F4E6A8B0C1D2E3F4A5B6C"),
            ("secret", "eyJ1aWQiOiJhbGljZSIsInNpZCI6IjkxMmYzYSJ9.Zm9vYmFyYmF6cXV4"),
            ("hostname", "claims.northwind.example"),
        ],
    ),
    (
        "log-038",
        ["by"],
        """2026-11-25 02:04:10 ERROR roster-sync: upload to s3://bya-roster-archive/2026/11/25/ failed: An error occurred (AccessDenied) when calling the PutObject operation; bucket endpoint bya-roster-archive.s3.eu-west-1.amazonaws.com, key id AKIAQ3EGRX7Z5M2NPL4T""",
        [
            ("hostname", "bya-roster-archive.s3.eu-west-1.amazonaws.com"),
            ("hostname", "bya-roster-archive"),
            ("secret", "AKIAQ3EGRX7Z5M2NPL4T"),
        ],
    ),
]
