"""The organisations the corpus's desk knows, and what it knows of each (service.known_terms)."""

from __future__ import annotations

PROFILES: dict[str, dict[str, list[str]]] = {
    "nw": {
        "contacts": ["Alice Northwind", "Bob Northwind"],
        "emails": ["alice@northwind.example", "bob@northwind.example"],
        "environments": ["nw-prod", "nw-uat"],
        "hostnames": ["northwind.example"],
    },
    "wg": {
        "contacts": ["Priya Raman", "Tomasz Kowalski"],
        "emails": ["priya.raman@woodgrovebank.co.uk", "t.kowalski@woodgrovebank.co.uk"],
        "environments": ["wgb-prod", "wgb-dr"],
        "hostnames": ["woodgrovebank.co.uk", "wgb.internal"],
    },
    "ch": {
        "contacts": ["Carol Contoso", "Siobhán O'Brien"],
        "emails": ["carol@contoso.example", "s.obrien@contoso.example"],
        "environments": ["ch-prod"],
        "hostnames": ["contoso.example", "chsql01"],
    },
    "lt": {
        "contacts": ["Mei Chen", "Diego Alvarez"],
        "emails": ["mei.chen@litware.com", "dalvarez@litware.com"],
        "environments": ["litware-live", "litware-staging"],
        "hostnames": ["litware.com", "litware.corp"],
    },
    "pw": {
        "contacts": ["Hannah Schmidt", "Lars Eriksson"],
        "emails": ["h.schmidt@proseware.de", "lars.eriksson@proseware.de"],
        "environments": ["pw-prod-eu"],
        "hostnames": ["proseware.de"],
    },
    "aw": {
        "contacts": ["Oluwaseun Adeyemi", "Aoife Byrne"],
        "emails": ["oluwaseun.adeyemi@adventure-works.com", "aoife.byrne@adventure-works.com"],
        "environments": ["AW-PRD-01"],
        "hostnames": ["adventure-works.com", "awprdapp01", "awprddb02"],
    },
    "fr": {
        "contacts": ["Dan Fabrikam", "Kenji Watanabe"],
        "emails": ["dan@fabrikam.example", "kenji.watanabe@fabrikam.example"],
        "environments": ["fr-prod"],
        "hostnames": ["fabrikam.example"],
    },
    "tt": {
        "contacts": ["Erin Tailspin", "Rahul Mehta"],
        "emails": ["erin@tailspin.example", "rahul.mehta@tailspin.example"],
        "environments": ["tt-prod"],
        "hostnames": ["tailspin.example"],
    },
    "lh": {
        "contacts": ["Fatima Al-Sayed", "Jean-Luc Martin"],
        "emails": ["f.alsayed@lamnahealthcare.com", "jl.martin@lamnahealthcare.com"],
        "environments": ["lamna-prd"],
        "hostnames": ["lamnahealthcare.com"],
    },
    "hi": {
        "contacts": ["Will Turner", "Grace Okafor"],
        "emails": ["will.turner@humongousinsurance.com", "grace.okafor@humongousinsurance.com"],
        "environments": ["hi-claims-prod"],
        "hostnames": ["humongousinsurance.com"],
    },
    "by": {
        "contacts": ["Sofia Rossi"],
        "emails": ["sofia.rossi@blueyonderairlines.com"],
        "environments": ["bya-prod"],
        "hostnames": ["blueyonderairlines.com"],
    },
    "fc": {
        "contacts": ["Emma Jones", "Marcus Lee"],
        "emails": ["emma.jones@fourthcoffee.com", "marcus.lee@fourthcoffee.com"],
        "environments": ["fc-live"],
        "hostnames": ["fourthcoffee.com"],
    },
}

ALL_ORGANISATIONS = [
    "Northwind Insurance",
    "Woodgrove Bank plc",
    "Contoso Health",
    "Litware Inc.",
    "Proseware GmbH",
    "Adventure Works Cycles Ltd",
    "Fabrikam Retail",
    "Tailspin Travel",
    "Lamna Healthcare Company",
    "Humongous Insurance",
    "Blue Yonder Airlines",
    "Fourth Coffee",
]
