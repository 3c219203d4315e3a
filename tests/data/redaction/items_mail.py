# ruff: noqa: E501 (corpus texts are kept as written, one line per log line)
"""Support e-mails, case descriptions, comments and phone notes."""

from __future__ import annotations

ITEMS = [
    (
        "mail-001",
        ["nw"],
        """Hi Eli,

Since the 10.4.2 upgrade last night the claims portal at https://claims.northwind.example/portal answers HTTP 503 for every user on nw-prod. nw-uat is fine.
Could you call me on +44 161 496 0101? Bob (bob@northwind.example) is on the bridge too.

Thanks,
Alice Northwind
Platform Lead, Northwind Insurance""",
        [
            ("url", "https://claims.northwind.example/portal"),
            ("environment", "nw-prod"),
            ("environment", "nw-uat"),
            ("phone", "+44 161 496 0101"),
            ("contact", "Bob"),
            ("email", "bob@northwind.example"),
            ("contact", "Alice Northwind"),
            ("organisation", "Northwind Insurance"),
        ],
    ),
    (
        "mail-002",
        ["wg"],
        """From: Priya Raman <priya.raman@woodgrovebank.co.uk>
To: eng2@vendor.example
Subject: RE: PCH-004211 payments Workspace slow after failover

Hello Emma,
Woodgrove's DR test moved traffic to wgb-dr at 02:10. Since then the payments Workspace takes 40 s to open.
Tomasz ran the thread dump you asked for; it's attached. Our DBA says the database at 10.44.12.7 is healthy.
Regards, Priya
Woodgrove Bank plc | 0207 946 0321""",
        [
            ("contact", "Priya Raman"),
            ("email", "priya.raman@woodgrovebank.co.uk"),
            ("email", "eng2@vendor.example"),
            ("case_ref", "PCH-004211"),
            ("organisation", "Woodgrove"),
            ("environment", "wgb-dr"),
            ("contact", "Tomasz"),
            ("ip", "10.44.12.7"),
            ("contact", "Priya"),
            ("organisation", "Woodgrove Bank plc"),
            ("phone", "0207 946 0321"),
        ],
    ),
    (
        "mail-003",
        ["ch"],
        """Carol Contoso called at 14:05 (0113 496 0201). Contoso Health's ch-prod on-premises Gateway stopped syncing Entities after their firewall change. She will send the proxy logs. Siobhán O'Brien from their network team can open port 443 to our Cloud relay if needed.""",
        [
            ("contact", "Carol Contoso"),
            ("phone", "0113 496 0201"),
            ("organisation", "Contoso Health"),
            ("environment", "ch-prod"),
            ("contact", "Siobhán O'Brien"),
        ],
    ),
    (
        "mail-004",
        ["lt"],
        """Dear support,

we get "Session expired" every few minutes on litware-live since this morning. Users log in through https://sso.litware.com/adfs/ls and land on https://apps.litware.com/claims/home.
Our load balancer (lb01.litware.corp, 172.16.40.10) has sticky sessions enabled.

Kind regards
Mei Chen
Litware Inc. - Digital Platforms
mei.chen@litware.com | +1 (425) 555 0147""",
        [
            ("environment", "litware-live"),
            ("url", "https://sso.litware.com/adfs/ls"),
            ("url", "https://apps.litware.com/claims/home"),
            ("hostname", "lb01.litware.corp"),
            ("ip", "172.16.40.10"),
            ("contact", "Mei Chen"),
            ("organisation", "Litware Inc."),
            ("email", "mei.chen@litware.com"),
            ("phone", "+1 (425) 555 0147"),
        ],
    ),
    (
        "mail-005",
        ["pw"],
        """Guten Morgen,

Proseware's pw-prod-eu cluster rejects all logins since 06:00 CET. Hannah Schmidt is the contact today, reachable on +49 30 901820 or h.schmidt@proseware.de. Lars can share his screen at 10:00.""",
        [
            ("organisation", "Proseware"),
            ("environment", "pw-prod-eu"),
            ("contact", "Hannah Schmidt"),
            ("phone", "+49 30 901820"),
            ("email", "h.schmidt@proseware.de"),
            ("contact", "Lars"),
        ],
    ),
    (
        "mail-006",
        ["aw"],
        """Oluwaseun here from Adventure Works. The order service on AW-PRD-01 throws OutOfMemoryError every 2 hours. The JVM on awprdapp01 has -Xmx4g; awprddb02 shows no locks. Aoife Byrne (aoife.byrne@adventure-works.com) owns the DB side.""",
        [
            ("contact", "Oluwaseun"),
            ("organisation", "Adventure Works"),
            ("environment", "AW-PRD-01"),
            ("hostname", "awprdapp01"),
            ("hostname", "awprddb02"),
            ("contact", "Aoife Byrne"),
            ("email", "aoife.byrne@adventure-works.com"),
        ],
    ),
    (
        "mail-007",
        ["fr"],
        """Dan Fabrikam wrote: "our fr-prod gateway at gw01.fabrikam.example lost its connection to the vendor Cloud at 21:14 UTC. Kenji restarted the service twice. Can someone look at PCH-000318?" Dan's mobile: 07700 900 461 (not valid for SMS).""",
        [
            ("contact", "Dan Fabrikam"),
            ("environment", "fr-prod"),
            ("hostname", "gw01.fabrikam.example"),
            ("contact", "Kenji"),
            ("case_ref", "PCH-000318"),
            ("contact", "Dan"),
            ("phone", "07700 900 461"),
        ],
    ),
    (
        "mail-008",
        ["tt"],
        """Erin Tailspin <erin@tailspin.example> asked whether Tailspin Travel can use the desk for tt-prod. Their package is Essential, so I pointed her to the ordinary Support Helpdesk. Rahul Mehta (rahul.mehta@tailspin.example) was in copy.""",
        [
            ("contact", "Erin Tailspin"),
            ("email", "erin@tailspin.example"),
            ("organisation", "Tailspin Travel"),
            ("environment", "tt-prod"),
            ("contact", "Rahul Mehta"),
            ("email", "rahul.mehta@tailspin.example"),
        ],
    ),
    (
        "mail-009",
        ["lh"],
        """Bonjour,
Lamna Healthcare's patient portal (https://portal.lamnahealthcare.com/patients?lang=fr) returns a blank page on lamna-prd. Jean-Luc Martin checked the nginx error log: "upstream timed out (110: Connection timed out) while reading response header from upstream, upstream: http://10.8.0.21:8080/patients".
Fatima Al-Sayed, f.alsayed@lamnahealthcare.com, +33 1 42 68 53 00""",
        [
            ("organisation", "Lamna Healthcare"),
            ("url", "https://portal.lamnahealthcare.com/patients?lang=fr"),
            ("environment", "lamna-prd"),
            ("contact", "Jean-Luc Martin"),
            ("ip", "10.8.0.21"),
            ("contact", "Fatima Al-Sayed"),
            ("email", "f.alsayed@lamnahealthcare.com"),
            ("phone", "+33 1 42 68 53 00"),
        ],
    ),
    (
        "mail-010",
        ["hi"],
        """Will this fix apply to our version too? Will Turner from Humongous Insurance asked on the call. Grace Okafor will test it on hi-claims-prod tonight; mail her at grace.okafor@humongousinsurance.com if the hotfix slips.""",
        [
            ("contact", "Will Turner"),
            ("organisation", "Humongous Insurance"),
            ("contact", "Grace Okafor"),
            ("environment", "hi-claims-prod"),
            ("email", "grace.okafor@humongousinsurance.com"),
        ],
    ),
    (
        "mail-011",
        ["by"],
        """Sofia Rossi (Blue Yonder) reports that crew rostering on bya-prod has been degraded since the 02:00 maintenance window. Blue Yonder Airlines' ops centre can be reached on +39 06 6982 0000. Affected API: https://api.blueyonderairlines.com/v2/rosters""",
        [
            ("contact", "Sofia Rossi"),
            ("organisation", "Blue Yonder"),
            ("environment", "bya-prod"),
            ("organisation", "Blue Yonder Airlines"),
            ("phone", "+39 06 6982 0000"),
            ("url", "https://api.blueyonderairlines.com/v2/rosters"),
        ],
    ),
    (
        "mail-012",
        ["fc"],
        """Hi team, Emma here. Fourth Coffee's loyalty app on fc-live crashes on start for Android users. Marcus Lee pushed a config change at 09:12 — diff attached. You can reach me at emma.jones@fourthcoffee.com or (020) 7946 0112.""",
        [
            ("contact", "Emma"),
            ("organisation", "Fourth Coffee"),
            ("environment", "fc-live"),
            ("contact", "Marcus Lee"),
            ("email", "emma.jones@fourthcoffee.com"),
            ("phone", "(020) 7946 0112"),
        ],
    ),
    (
        "mail-013",
        ["nw"],
        """Engineer note (internal): Alice confirmed the workaround (disable HTTP/2 on the ingress). Northwind will schedule the upgrade to 10.4.3 next week. Linked bug: https://github.com/vendor/platform/issues/4411. Case PCH-000207 can be resolved.""",
        [
            ("contact", "Alice"),
            ("organisation", "Northwind"),
            ("case_ref", "PCH-000207"),
        ],
    ),
    (
        "mail-014",
        ["wg"],
        """Tomasz Kowalski wrote at 03:12:
> The failover script on wgb-prod printed "connected to pg-primary.wgb.internal (10.44.12.7)" and then hung.
> I have to leave; Priya takes over. Her direct line is 020 7946 0958.""",
        [
            ("contact", "Tomasz Kowalski"),
            ("environment", "wgb-prod"),
            ("hostname", "pg-primary.wgb.internal"),
            ("ip", "10.44.12.7"),
            ("contact", "Priya"),
            ("phone", "020 7946 0958"),
        ],
    ),
    (
        "mail-015",
        ["ch"],
        """Re: Gateway certificate

Carol, the Gateway on CHSQL01 still presents the old certificate (CN=gateway.contoso.example, expired 2026-11-20). Please replace it in C:\\Users\\carol.contoso\\Downloads\\gateway.pfx before re-running the installer. Thanks, Emma (eng2@vendor.example)""",
        [
            ("contact", "Carol"),
            ("hostname", "CHSQL01"),
            ("hostname", "gateway.contoso.example"),
            ("path", "C:\\Users\\carol.contoso"),
            ("email", "eng2@vendor.example"),
        ],
    ),
    (
        "mail-016",
        ["lt"],
        """Diego Alvarez (dalvarez@litware.com) asks: could the Entity import timeouts on litware-staging be the same bug as on litware-live? His test user is dalvarez and the import file is /home/dalvarez/exports/policies-2026-11.csv.""",
        [
            ("contact", "Diego Alvarez"),
            ("email", "dalvarez@litware.com"),
            ("environment", "litware-staging"),
            ("environment", "litware-live"),
            ("path", "/home/dalvarez"),
            ("contact", "dalvarez"),
        ],
    ),
    (
        "mail-017",
        ["pw"],
        """Lars Eriksson <lars.eriksson@proseware.de> schrieb:
Das Problem tritt nur auf pw-prod-eu auf. Unser Proxy ist proxy.ber.proseware.de:3128. Hannah ist ab Montag zurück.""",
        [
            ("contact", "Lars Eriksson"),
            ("email", "lars.eriksson@proseware.de"),
            ("environment", "pw-prod-eu"),
            ("hostname", "proxy.ber.proseware.de"),
            ("contact", "Hannah"),
        ],
    ),
    (
        "mail-018",
        ["aw"],
        """Phone note 11:40 — Aoife called from Adventure Works Cycles about PCH-001902. Their DBA restored awprddb02 from last night's backup; the order queue on AW-PRD-01 is draining. Callback number +353 1 555 0192 ext 21.""",
        [
            ("contact", "Aoife"),
            ("organisation", "Adventure Works Cycles"),
            ("case_ref", "PCH-001902"),
            ("hostname", "awprddb02"),
            ("environment", "AW-PRD-01"),
            ("phone", "+353 1 555 0192 ext 21"),
        ],
    ),
    (
        "mail-019",
        ["fr"],
        """Kenji Watanabe: the Gateway service account password was rotated by their AD team, which explains the 401s. He pasted it in chat by mistake — the new password is Gw!Fabr1k4m#2026 — please treat it as compromised and ask Dan to rotate again.""",
        [
            ("contact", "Kenji Watanabe"),
            ("secret", "Gw!Fabr1k4m#2026"),
            ("contact", "Dan"),
        ],
    ),
    (
        "mail-020",
        ["tt"],
        """Rahul wrote: our website https://www.tailspin.example/bookings/confirm?ref=TT-88231 shows a Java stack trace to customers. See screenshot. Erin's manager wants an RCA by Friday.""",
        [
            ("contact", "Rahul"),
            ("url", "https://www.tailspin.example/bookings/confirm?ref=TT-88231"),
            ("contact", "Erin"),
        ],
    ),
    (
        "mail-021",
        ["lh"],
        """Summary for the lead: Lamna (lamna-prd) hit the known Tomcat 9.0.83 bug with HTTP/2 and large headers. Jean-Luc applied the workaround (maxHttpHeaderSize=65536). Contact: jl.martin@lamnahealthcare.com.""",
        [
            ("organisation", "Lamna"),
            ("environment", "lamna-prd"),
            ("contact", "Jean-Luc"),
            ("email", "jl.martin@lamnahealthcare.com"),
        ],
    ),
    (
        "mail-022",
        ["hi"],
        """Humongous asked for a screen-sharing session with Grace at 15:00 UK. Meeting link: https://meet.humongousinsurance.com/j/83412?pwd=Qm9vb0FrY3d4 — Will will join from his mobile 07911 123456.""",
        [
            ("organisation", "Humongous"),
            ("contact", "Grace"),
            ("url", "https://meet.humongousinsurance.com/j/83412?pwd=Qm9vb0FrY3d4"),
            ("contact", "Will"),
            ("phone", "07911 123456"),
        ],
    ),
    (
        "mail-023",
        ["nw", "fc"],
        """Two customers with the same symptom today: Northwind Insurance (nw-prod) and Fourth Coffee (fc-live). Both use the Cloud in eu-west-1 and both started at 07:55 UTC. Alice Northwind and Marcus Lee have been told we suspect the platform release 10.4.2.""",
        [
            ("organisation", "Northwind Insurance"),
            ("environment", "nw-prod"),
            ("organisation", "Fourth Coffee"),
            ("environment", "fc-live"),
            ("contact", "Alice Northwind"),
            ("contact", "Marcus Lee"),
        ],
    ),
    (
        "mail-024",
        ["wg"],
        """Priya's colleague forwarded the vendor ticket to security@woodgrovebank.co.uk and to the CISO office (ciso-office@woodgrovebank.co.uk). They want written confirmation that no customer data left wgb-prod.""",
        [
            ("contact", "Priya"),
            ("email", "security@woodgrovebank.co.uk"),
            ("email", "ciso-office@woodgrovebank.co.uk"),
            ("environment", "wgb-prod"),
        ],
    ),
    (
        "mail-025",
        ["ch"],
        """Siobhán asked us to use her personal address while their mail server is down: siobhan.obrien.1984@gmail.com. Mobile 07700 900 982, landline 0113 496 0777.""",
        [
            ("contact", "Siobhán"),
            ("email", "siobhan.obrien.1984@gmail.com"),
            ("phone", "07700 900 982"),
            ("phone", "0113 496 0777"),
        ],
    ),
    (
        "mail-026",
        ["lt"],
        """Meeting notes 2026-11-24
Attendees: Mei Chen, Diego Alvarez (Litware), Eli (vendor)
- Litware reproduces the login loop only via the F5 VIP 203.0.113.45, not directly on app nodes 172.16.40.21-24.
- Action: Mei to send HAR file; Eli to check cookie SameSite handling.""",
        [
            ("contact", "Mei Chen"),
            ("contact", "Diego Alvarez"),
            ("organisation", "Litware"),
            ("ip", "203.0.113.45"),
            ("ip", "172.16.40.21"),
            ("contact", "Mei"),
        ],
    ),
    (
        "mail-027",
        ["pw"],
        """Hannah Schmidt's team exported the failing Project as /Users/hschmidt/Desktop/pw-orders.zip and uploaded it. Please don't share it outside the case; it contains Proseware GmbH pricing rules.""",
        [
            ("contact", "Hannah Schmidt"),
            ("path", "/Users/hschmidt"),
            ("organisation", "Proseware GmbH"),
        ],
    ),
    (
        "mail-028",
        ["aw"],
        """Hi Oluwaseun, the heap dump shows 2.1 GB held by com.vendor.runtime.cache.EntityCache. Please set entityCache.maxEntries=50000 in /opt/vendor/conf/runtime.properties on awprdapp01 and restart. Best, Eli""",
        [
            ("contact", "Oluwaseun"),
            ("hostname", "awprdapp01"),
        ],
    ),
    (
        "mail-029",
        ["fr"],
        """Fabrikam Retail escalation: Dan asked for a call with the account manager (am@vendor.example). Kenji Watanabe's number is +81 3-1234-5678.""",
        [
            ("organisation", "Fabrikam Retail"),
            ("contact", "Dan"),
            ("email", "am@vendor.example"),
            ("contact", "Kenji Watanabe"),
            ("phone", "+81 3-1234-5678"),
        ],
    ),
    (
        "mail-030",
        ["tt"],
        """Tailspin's booking engine posts to https://payments.tailspin.example/api/charge with header X-Api-Key: tsp_live_8Jd93KfL2mQx7Rv5Nw1Zp4Hc. Rahul says the key was rotated yesterday.""",
        [
            ("organisation", "Tailspin"),
            ("url", "https://payments.tailspin.example/api/charge"),
            ("secret", "tsp_live_8Jd93KfL2mQx7Rv5Nw1Zp4Hc"),
            ("contact", "Rahul"),
        ],
    ),
    (
        "mail-031",
        ["lh"],
        """Fatima, the VPN profile you sent connects to vpn.lamnahealthcare.com (198.51.100.23) but then routes nothing to 10.8.0.0/16. Could your network team check the split-tunnel routes? — Emma""",
        [
            ("contact", "Fatima"),
            ("hostname", "vpn.lamnahealthcare.com"),
            ("ip", "198.51.100.23"),
            ("ip", "10.8.0.0"),
        ],
    ),
    (
        "mail-032",
        ["hi"],
        """Grace Okafor reported that the claims Workspace on hi-claims-prod shows another customer's claim number after login. Treat as S1 (possible data exposure). Reporter: grace.okafor@humongousinsurance.com, Humongous Insurance.""",
        [
            ("contact", "Grace Okafor"),
            ("environment", "hi-claims-prod"),
            ("email", "grace.okafor@humongousinsurance.com"),
            ("organisation", "Humongous Insurance"),
        ],
    ),
    (
        "mail-033",
        ["by"],
        """Sofia asked to add her deputy (l.bianchi@blueyonderairlines.com, +39 02 8736 4000) to the case. Blue Yonder Airlines also wants the RCA in Italian.""",
        [
            ("contact", "Sofia"),
            ("email", "l.bianchi@blueyonderairlines.com"),
            ("phone", "+39 02 8736 4000"),
            ("organisation", "Blue Yonder Airlines"),
        ],
    ),
    (
        "mail-034",
        ["fc"],
        """Marcus Lee's deployment log ends with: "Deployed build 2026.11.25-3 to fc-live (app-01.fourthcoffee.com, app-02.fourthcoffee.com)". Emma Jones confirmed the rollback worked.""",
        [
            ("contact", "Marcus Lee"),
            ("environment", "fc-live"),
            ("hostname", "app-01.fourthcoffee.com"),
            ("hostname", "app-02.fourthcoffee.com"),
            ("contact", "Emma Jones"),
        ],
    ),
    (
        "mail-035",
        ["nw"],
        """Bob Northwind: "Our SIEM flagged logins to the admin console from 185.199.110.42 and 2001:db8:4a1::17 at 03:00. Was that your engineer?" Answer: no vendor access was open (cloud access audit shows none for nw-prod).""",
        [
            ("contact", "Bob Northwind"),
            ("ip", "185.199.110.42"),
            ("ip", "2001:db8:4a1::17"),
            ("environment", "nw-prod"),
        ],
    ),
    (
        "mail-036",
        ["wg"],
        """Sehr geehrte Damen und Herren — wrong language, sorry! Tomasz again: the DR database is pgdr01.wgb.internal, port 5432, user wgb_app. Ping from app tier: 64 bytes from 10.44.13.7: icmp_seq=1 ttl=63 time=0.412 ms""",
        [
            ("contact", "Tomasz"),
            ("hostname", "pgdr01.wgb.internal"),
            ("ip", "10.44.13.7"),
        ],
    ),
    (
        "mail-037",
        ["ch"],
        """Contoso asked us to send the RCA to carol@contoso.example only. Note: Carol Contoso is out on Friday; Siobhán O'Brien covers (s.obrien@contoso.example).""",
        [
            ("organisation", "Contoso"),
            ("email", "carol@contoso.example"),
            ("contact", "Carol Contoso"),
            ("contact", "Siobhán O'Brien"),
            ("email", "s.obrien@contoso.example"),
        ],
    ),
    (
        "mail-038",
        ["lt"],
        """Litware Inc.'s change ticket CHG0041877 says the F5 iRule was edited by dalvarez at 08:02. After that, https://apps.litware.com/ returns 302 loops. Mei Chen wants us on a call at 13:00 PST.""",
        [
            ("organisation", "Litware Inc."),
            ("contact", "dalvarez"),
            ("url", "https://apps.litware.com/"),
            ("contact", "Mei Chen"),
        ],
    ),
    (
        "mail-039",
        ["pw"],
        """Customer message (translated): "Since this morning, Proseware's users see 'Workspace locked by another user'. Locked by: hschmidt@PROSEWARE.DE on host PW-WS-0231.proseware.de." """,
        [
            ("organisation", "Proseware"),
            ("email", "hschmidt@PROSEWARE.DE"),
            ("hostname", "PW-WS-0231.proseware.de"),
        ],
    ),
    (
        "mail-040",
        ["aw"],
        """Aoife Byrne asked to be removed from notifications for PCH-001902 and PCH-001955; Oluwaseun Adeyemi (oluwaseun.adeyemi@adventure-works.com, mobile +44 7700 900123) takes over.""",
        [
            ("contact", "Aoife Byrne"),
            ("case_ref", "PCH-001902"),
            ("case_ref", "PCH-001955"),
            ("contact", "Oluwaseun Adeyemi"),
            ("email", "oluwaseun.adeyemi@adventure-works.com"),
            ("phone", "+44 7700 900123"),
        ],
    ),
    (
        "mail-041",
        ["nw"],
        """Hi Bob, as discussed: the ingress at 10.20.30.40 terminates TLS with the certificate for *.northwind.example. Your colleague Alice asked whether we can see the private key — we cannot and should not. Regards, Eli Engineer""",
        [
            ("contact", "Bob"),
            ("ip", "10.20.30.40"),
            ("hostname", "northwind.example"),
            ("contact", "Alice"),
        ],
    ),
    (
        "mail-042",
        ["fc"],
        """Fourth Coffee: Emma Jones called from +44 20 7946 0999 about the Android crash. Marcus thinks the new feature flag service at flags.fourthcoffee.com is down.""",
        [
            ("organisation", "Fourth Coffee"),
            ("contact", "Emma Jones"),
            ("phone", "+44 20 7946 0999"),
            ("contact", "Marcus"),
            ("hostname", "flags.fourthcoffee.com"),
        ],
    ),
]
