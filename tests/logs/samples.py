"""Realistic log samples written for these tests (Java/Tomcat and third-party formats)."""

# Log lines are data: they keep their real length.
# ruff: noqa: E501

from __future__ import annotations

TOMCAT_APP = """\
2026-11-25 09:11:58,002 INFO  [main] c.v.runtime.Boot - Runtime started in 4211 ms on port 8080
2026-11-25 09:12:03,114 ERROR [http-nio-8080-exec-4] c.v.runtime.Checkout - Checkout failed for order 48213
java.lang.IllegalStateException: Entity 'Order' has no primary key
\tat com.acme.platform.entity.EntityMapper.keyOf(EntityMapper.java:142)
\tat com.acme.platform.entity.EntityMapper$1.apply(EntityMapper.java:88)
\tat java.base/java.util.stream.ReferencePipeline$3$1.accept(ReferencePipeline.java:197)
\tat com.acme.platform.workspace.WorkspaceService.lambda$publish$3(WorkspaceService.java:210)
\tat org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:166)
Caused by: java.sql.SQLSyntaxErrorException: ORA-00942: table or view does not exist
\tat oracle.jdbc.driver.T4CTTIoer11.processError(T4CTTIoer11.java:494)
\tat com.acme.platform.db.Gateway.query(Gateway.java:55)
\tat com.acme.platform.db.Gateway.load(Gateway.java:31)
\t... 12 more
2026-11-25 09:12:04,001 WARN  [http-nio-8080-exec-5] c.v.runtime.Pool - Connection pool exhausted after 30000 ms (active=50, idle=0)
2026-11-25 09:12:05,001 WARN  [http-nio-8080-exec-6] c.v.runtime.Pool - Connection pool exhausted after 30012 ms (active=50, idle=0)
2026-11-25 09:13:03,114 ERROR [http-nio-8080-exec-7] c.v.runtime.Checkout - Checkout failed for order 48999
java.lang.IllegalStateException: Entity 'Invoice' has no primary key
\tat com.acme.platform.entity.EntityMapper.keyOf(EntityMapper.java:143)
\tat com.acme.platform.entity.EntityMapper$2.apply(EntityMapper.java:90)
\tat com.acme.platform.workspace.WorkspaceService.lambda$publish$7(WorkspaceService.java:212)
Caused by: java.sql.SQLSyntaxErrorException: ORA-00942: table or view does not exist
\tat oracle.jdbc.driver.T4CTTIoer11.processError(T4CTTIoer11.java:494)
\tat com.acme.platform.db.Gateway.query(Gateway.java:57)
\tat com.acme.platform.db.Gateway.load(Gateway.java:33)
\t... 12 more
2026-11-25 09:14:00,000 INFO  [scheduler-1] c.v.runtime.Health - Health check passed in 12 ms
"""

# The same defect as a bug report would hold it (pasted from another customer's log).
TRACE_IN_A_BUG = """\
Caused by: java.sql.SQLSyntaxErrorException: ORA-00942: table or view does not exist
    at oracle.jdbc.driver.T4CTTIoer11.processError(T4CTTIoer11.java:501)
    at com.acme.platform.db.Gateway.query(Gateway.java:60)
    at com.acme.platform.db.Gateway.load(Gateway.java:40)
"""

CATALINA = """\
25-Nov-2026 08:41:02.123 INFO [main] org.apache.catalina.startup.Catalina.start Server startup in [4213] milliseconds
25-Nov-2026 08:41:05.456 SEVERE [http-nio-8080-exec-2] org.apache.catalina.core.StandardWrapperValve.invoke Servlet.service() for servlet [dispatcher] threw exception
java.lang.NullPointerException: Cannot invoke "com.acme.Order.total()" because "order" is null
\tat com.acme.platform.checkout.Totals.sum(Totals.java:31)
\tat com.acme.platform.checkout.CheckoutController.submit(CheckoutController.java:77)
\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883)
25-Nov-2026 08:41:09.001 WARNING [main] org.apache.catalina.loader.WebappClassLoaderBase.clearReferencesThreads The web application [ROOT] appears to have started a thread named [pool-3-thread-1] but has failed to stop it
"""

ACCESS = """\
203.0.113.7 - - [25/Nov/2026:09:12:03 +0000] "GET /api/orders/48213 HTTP/1.1" 200 1532 "-" "Mozilla/5.0"
203.0.113.9 - alice [25/Nov/2026:09:12:04 +0000] "POST /api/checkout HTTP/1.1" 500 87 "https://shop.example.com/cart" "Mozilla/5.0"
198.51.100.4 - - [25/Nov/2026:09:12:05 +0000] "GET /static/app.3f2a1b.js HTTP/2.0" 404 0 "-" "curl/8.5.0"
203.0.113.7 - - [25/Nov/2026:09:12:06 +0000] "POST /api/checkout HTTP/1.1" 500 91 "https://shop.example.com/cart" "Mozilla/5.0"
"""

NGINX_ERROR = """\
2026/11/25 09:12:03 [error] 1234#0: *5 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 203.0.113.7, server: shop.example.com
2026/11/25 09:12:09 [warn] 1234#0: *7 an upstream response is buffered to a temporary file /var/cache/nginx/proxy_temp/1/00/0000000001 while reading upstream
"""

POSTGRES = """\
2026-11-25 09:12:03.114 UTC [4711] LOG:  checkpoint starting: time
2026-11-25 09:12:04.200 UTC [4803] app@shop ERROR:  duplicate key value violates unique constraint "orders_pkey"
2026-11-25 09:12:04.200 UTC [4803] app@shop DETAIL:  Key (id)=(48213) already exists.
2026-11-25 09:12:09.001 UTC [4811] app@shop FATAL:  remaining connection slots are reserved for non-replication superuser connections
"""

SYSLOG = """\
Nov 25 09:12:03 web-01 sshd[24200]: Failed password for invalid user admin from 203.0.113.7 port 52116 ssh2
Nov 25 09:12:04 web-01 kernel: [123456.789] Out of memory: Killed process 4711 (java) total-vm:8123456kB
Nov 25 09:12:05 web-01 systemd[1]: tomcat.service: Main process exited, code=killed, status=9/KILL
"""

RFC5424 = """\
<165>1 2026-11-25T09:12:03.114Z web-01 runtime 4711 ID47 [exampleSDID@32473 iut="3"] Checkout failed for order 48213
<163>1 2026-11-25T09:12:04.000Z web-01 runtime 4711 - - Connection refused
"""

WINDOWS_CSV = """\
Level,Date and Time,Source,Event ID,Task Category,Message
Error,11/25/2026 9:12:03 AM,Service Control Manager,7031,None,The Acme Runtime service terminated unexpectedly.  It has done this 1 time(s).
Warning,11/25/2026 9:12:05 AM,Acme Runtime,1001,None,Pool exhausted after 30000 ms
Information,11/25/2026 9:13:00 AM,Service Control Manager,7036,None,The Acme Runtime service entered the running state.
"""

GENERIC = """\
2026-11-25T09:12:03Z ERROR payment gateway unreachable after 3 retries
2026-11-25T09:12:04Z INFO retry scheduled in 30 s
"""
