"""The redaction rules: every category, placeholders, keep/allow/extra, offsets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critdesk.redaction.rules import KnownTerms, Redacted, redact

NW = KnownTerms(
    organisations=("Northwind Insurance", "Contoso Health", "Woodgrove Bank plc"),
    contacts=("Alice Northwind", "Bob Smith"),
    emails=("alice@northwind.example",),
    environments=("nw-prod", "nw-uat"),
    hostnames=("northwind.example", "nwprddb01"),
)


def check_offsets(text: str, result: Redacted) -> None:
    previous_end = 0
    for r in result.replacements:
        assert text[r.start : r.end] == r.original
        assert result.text[r.out_start : r.out_end] == r.placeholder
        assert r.start >= previous_end  # in order of position, never overlapping
        previous_end = r.end


def replaced(text: str, known: KnownTerms = NW, **kwargs: object) -> dict[str, str]:
    """original -> category of every replacement."""
    result = redact(text, known, **kwargs)  # type: ignore[arg-type]
    check_offsets(text, result)
    return {r.original: r.category for r in result.replacements}


@pytest.mark.parametrize(
    ("text", "original", "category"),
    [
        ("Northwind Insurance's portal is down", "Northwind Insurance", "organisation"),
        ("the NORTHWIND team", "NORTHWIND", "organisation"),
        ("Woodgrove Bank said so", "Woodgrove Bank", "organisation"),
        ("package com.northwindinsurance.claims", "northwindinsurance", "organisation"),
        ("Hi Alice, thanks", "Alice", "contact"),
        ("Smith, Bob wrote", "Smith, Bob", "contact"),
        ("ssh bsmith@host", "bsmith", "contact"),
        ("mail carol.x@corp.example.com now", "carol.x@corp.example.com", "email"),
        ("call +44 161 496 0101 today", "+44 161 496 0101", "phone"),
        ("or 0161 496 0102.", "0161 496 0102", "phone"),
        ("US office (212) 555-0143", "(212) 555-0143", "phone"),
        ("db at 10.20.30.40:5432", "10.20.30.40", "ip"),
        ("peer 2001:db8:4a1::17 left", "2001:db8:4a1::17", "ip"),
        ("host db01.corp.local is slow", "db01.corp.local", "hostname"),
        (
            "rds claims.c9x.eu-west-1.rds.amazonaws.com",
            "claims.c9x.eu-west-1.rds.amazonaws.com",
            "hostname",
        ),
        (
            "see https://portal.northwind.example/x?id=1.",
            "https://portal.northwind.example/x?id=1",
            "url",
        ),
        ("jdbc:postgresql://nwprddb01:5432/claims", "nwprddb01", "hostname"),
        ("logs in /home/jsmith/logs", "/home/jsmith", "path"),
        ("C:\\Users\\John Smith\\Desktop", "C:\\Users\\John Smith", "path"),
        ("case PCH-000123 closed", "PCH-000123", "case_ref"),
        ("deployed to nw-prod", "nw-prod", "environment"),
        ("known host nwprddb01 down", "nwprddb01", "hostname"),
    ],
)
def test_it_replaces_each_category(text: str, original: str, category: str) -> None:
    assert replaced(text).get(original) == category


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        ("spring.datasource.password=Tr0ub4dor&3", "Tr0ub4dor&3"),
        ("Server=x;User Id=sa;Password=P@ss-w0rd;Encrypt=True", "P@ss-w0rd"),
        ('  password: "correct horse battery"', "correct horse battery"),
        ("postgres://app:S3cr3t@db.corp.local/claims", "S3cr3t"),
        ("Authorization: Bearer abcdef0123456789abcdef0123", "abcdef0123456789abcdef0123"),
        ("Cookie: JSESSIONID=8F3A2B1C9D0E7F6A5B4C; theme=dark", "8F3A2B1C9D0E7F6A5B4C"),
        (
            "token ghp_4kX9mQ2vB7nL1pR8sT3wY6zA0cE5dF2gH4jK",
            "ghp_4kX9mQ2vB7nL1pR8sT3wY6zA0cE5dF2gH4jK",
        ),
        ("mysql -u app -pR3adOnly!x db", "R3adOnly!x"),
        ("<password>Ts!Nexus-88</password>", "Ts!Nexus-88"),
        ("key=AIzaSyD8x3Qm9Lp2Rt7Wz4Yn1Bc6Dh5Fj0Gs2Ua", "AIzaSyD8x3Qm9Lp2Rt7Wz4Yn1Bc6Dh5Fj0Gs2Ua"),
    ],
)
def test_it_replaces_secrets(text: str, secret: str) -> None:
    assert replaced(text).get(secret) == "secret"


def test_it_replaces_a_jwt_and_a_private_key_block_whole() -> None:
    jwt = (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9l"
        "IiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    )
    pem = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1Lf\nVLPHCozMxH2Mo4lg\n"
        "-----END RSA PRIVATE KEY-----"
    )
    found = replaced(f"token {jwt} and\n{pem}\nbye")
    assert found.get(jwt) == "secret"
    assert found.get(pem) == "secret"


@pytest.mark.parametrize(
    "text",
    [
        "Java 17, Tomcat 9.0.85, PostgreSQL 15, Kubernetes 1.28 and nginx on localhost:8080",
        "see https://maven.apache.org/guides and https://github.com/spring-projects/x/issues/1",
        "2026-11-25 10:00:00,123 ERROR at 127.0.0.1 version 10.4.2.1 pid 4242",
        "netmask 255.255.255.0, DNS 8.8.8.8, request 3e1a6f2c-8b4d-4f0e-9a7c-2d5b6e8f1a3c",
        "logger.info(x); java.io.IOException; setup.py; System.Net.Http; Node.js 20",
        "password.policy.minLength=12 and password=${DB_PASSWORD} and secret: ****",
        "The Entity lives in a Project in a Workspace on the Cloud or behind a Gateway",
        "mail user@example.com for docs; Mozilla/5.0 Chrome/131.0.0.0 Safari/537.36",
        "sha256 6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b",
        "Will this fix apply? mkdir -p /opt/x; mvn -Pprod; ssh -p 2222 host",
    ],
)
def test_it_keeps_technology_versions_and_public_things(text: str) -> None:
    assert redact(text, NW).replacements == ()


def test_placeholders_are_consistent_within_a_text() -> None:
    text = (
        "alice@northwind.example wrote to carol@contoso.example; "
        "ALICE@northwind.example again, from 10.0.0.1 and 10.0.0.2 and 10.0.0.1"
    )
    result = redact(text, NW)
    placeholders = [r.placeholder for r in result.replacements]
    assert placeholders == ["[EMAIL-1]", "[EMAIL-2]", "[EMAIL-1]", "[IP-1]", "[IP-2]", "[IP-1]"]
    assert result.text == (
        "[EMAIL-1] wrote to [EMAIL-2]; [EMAIL-1] again, from [IP-1] and [IP-2] and [IP-1]"
    )


def test_variants_of_one_known_name_share_a_placeholder() -> None:
    result = redact("Alice Northwind said Alice and Northwind Insurance and Northwind", NW)
    assert [r.placeholder for r in result.replacements] == [
        "[CONTACT-1]",
        "[CONTACT-1]",
        "[ORG-1]",
        "[ORG-1]",
    ]


def test_the_same_phone_number_written_twice_shares_a_placeholder() -> None:
    result = redact("call +44 161 496 0101 or 0161 496 0101 or 0161 496 0102", NW)
    assert [r.placeholder for r in result.replacements] == ["[PHONE-1]", "[PHONE-1]", "[PHONE-2]"]


def test_every_replacement_has_a_reason() -> None:
    result = redact("AKIAIOSFODNN7EXAMPLE for Northwind Insurance", NW)
    reasons = {r.category: r.reason for r in result.replacements}
    assert "AWSKeyDetector" in reasons["secret"]
    assert reasons["organisation"] == "known organisation 'Northwind Insurance'"


def test_extra_terms_are_redacted_and_allowed_originals_kept() -> None:
    text = "Project Bluebird on payments.wgb.internal for Northwind Insurance"
    result = redact(text, NW, extra=["Bluebird"], allow=["payments.wgb.internal"])
    assert {r.original: r.placeholder for r in result.replacements} == {
        "Bluebird": "[REDACTED-1]",
        "Northwind Insurance": "[ORG-1]",
    }


def test_keep_words_win_over_known_names_and_can_be_extended() -> None:
    known = KnownTerms(organisations=("Gateway",), environments=("prod", "claims-live"))
    assert redact("the Gateway on prod and claims-live", known).text == (
        "the Gateway on prod and [ENV-1]"
    )
    kept = KnownTerms(environments=("claims-live",), keep=("claims-live", "intranet.acme.com"))
    assert redact("claims-live at intranet.acme.com", kept).replacements == ()


def test_ambiguous_first_names_are_taken_only_as_names() -> None:
    known = KnownTerms(contacts=("Will Turner",))
    assert replaced("Will this fix apply? Will will join.", known) == {"Will": "contact"}
    result = redact("Will this fix apply? Will will join.", known)
    assert [r.start for r in result.replacements] == [21]


def test_empty_and_clean_texts_come_back_unchanged() -> None:
    assert redact("") == Redacted("", ())
    assert redact("nothing to see here").text == "nothing to see here"


def test_many_organisations_compile_into_one_matcher() -> None:
    names = tuple(f"Customer{i:04d} Holdings" for i in range(3000))
    known = KnownTerms(organisations=names)
    result = redact("Customer2999 Holdings and Customer0001 Holdings", known)
    assert [r.category for r in result.replacements] == ["organisation", "organisation"]


_name_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=4, max_size=9).map(
    str.capitalize
)
_surrounding = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60
)


@settings(max_examples=200, deadline=None)
@given(
    org=st.tuples(_name_word, _name_word).map(" ".join),
    local=st.from_regex(r"[a-z][a-z0-9._-]{0,15}[a-z0-9]", fullmatch=True),
    domain=st.from_regex(r"[a-z][a-z0-9-]{1,12}\.(com|co\.uk|example|io)", fullmatch=True),
    before=_surrounding,
    between=_surrounding,
    after=_surrounding,
)
def test_no_known_organisation_name_or_email_survives(
    org: str, local: str, domain: str, before: str, between: str, after: str
) -> None:
    email = f"{local}@{domain}"
    known = KnownTerms(organisations=(org,), emails=(email,))
    text = f"{before} {org} {between} {email} {after}"
    result = redact(text, known)
    check_offsets(text, result)
    lowered = result.text.lower()
    assert org.lower() not in lowered or org.lower() in "".join((before, between, after)).lower()
    assert email not in lowered or email in "".join((before, between, after)).lower()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_offsets_hold_for_any_text(text: str) -> None:
    check_offsets(text, redact(text, NW))


def test_every_secret_plugin_finds_through_its_gate_what_a_full_scan_finds() -> None:
    """The prefix dispatch and line gates only skip work: each detect-secrets expression
    finds the same secrets as run over the whole text."""
    from critdesk.redaction import credentials
    from critdesk.redaction.spans import lowered

    samples = [
        "AKIAIOSFODNN7EXAMPLE",
        'aws_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY0"',
        "AccountKey=" + "a1B2" * 22,
        "key AKCp5bjdsAAQnfL1234567890abcdef here",
        "https://user:s3cretPassw0rd@host.example.org/",
        "MTE4NzU2NzQ4MDI4OTQwNzI5.GqKc2d.abcdefghijklmnopqrstuvwxyz0",
        "ghp_" + "a" * 36,
        "glpat-" + "b" * 24,
        "0123456789abcdef0123456789abcdef-us12",
        "//registry.npmjs.org/:_authToken=npm_" + "c" * 36,
        "pypi-AgEIcHlwaS5vcmc" + "d" * 70,
        "SG." + "e" * 22 + "." + "f" * 43,
        "xoxb-1234-5678-abcdef",
        "https://hooks.slack.com/services/T0000/B0000/XXXXXXXX",
        "sq0csp-" + "g" * 43,
        "sk_live_" + "h" * 24 + " rk_live_" + "i" * 24,
        "123456789:" + "j" * 35,
        "AC" + "k" * 32 + " SK" + "l" * 32,
        "AIza" + "m" * 35,
        "ACCAKIAIOSFODNN7EXAMPLE1",
    ]
    text = "\n".join(f"line {i}: {sample} end" for i, sample in enumerate(samples))
    gated = {(h.start, h.end) for h in credentials._plugin_hits(text, lowered(text))}
    full = set()
    for detector in credentials._DETECTORS:
        for match in detector.pattern.finditer(text):
            full |= {(h.start, h.end) for h in credentials._hit(text, detector, match)}
    assert gated >= full
    assert len(full) >= len(samples) - 2
