"""Template mining: variables masked by shape, messages grouped by the Drain-style miner."""

from __future__ import annotations

import pytest

from critdesk.logs.miner import TemplateMiner
from critdesk.logs.templates import template_lines
from critdesk.logs.variables import mask
from tests.logs import samples


@pytest.mark.parametrize(
    ("message", "masked"),
    [
        ("Connection from 10.1.2.3:5432 refused", "Connection from <*>:<*> refused"),
        ("user=alice@example.com id=42", "user=<*> id=<*>"),
        ("request 3f2b8c1e-9d4a-4b7e-8f00-1a2b3c4d5e6f done", "request <*> done"),
        ("wrote /var/log/acme/runtime.log", "wrote <*>"),
        ("GET https://api.example.com/v1/orders?id=7", "GET https://<*>"),
        ("entity 'Order' has no key", "entity '<*>' has no key"),
        ("crc 0x1f3a and deadbeef42", "crc <*> and <*>"),
        ("Started attempt_1445_0020_m_000009_0 on pool-3-thread-7", "Started <*> on <*>"),
        ("took 1.5 KB in 12:16:49", "took <*> in <*>:<*>:<*>"),
        ("ssh2 and jk2_init and 4G stay", "ssh2 and jk2_init and 4G stay"),
        ("flag is true", "flag is <*>"),
        ("resolved proxy.example.co.uk", "resolved <*>"),
        ("at Sat Jul  9 12:16:49 2005", "at <*> <*> <*> <*>:<*>:<*> <*>"),
        ("manager=com.acme.Store@8a2a501", "manager=<*>"),
    ],
)
def test_variables_are_masked_by_their_shape(message, masked) -> None:
    assert mask(message) == masked


def test_messages_of_one_event_share_a_template() -> None:
    miner = TemplateMiner()
    ids = [
        miner.add("Connection pool exhausted after 30000 ms (active=50, idle=0)"),
        miner.add("Connection pool exhausted after 30012 ms (active=49, idle=1)"),
        miner.add("Checkout failed for order 48213"),
        miner.add("Checkout failed for order 48999"),
        miner.add("Invalid user webmaster from 203.0.113.7"),
        miner.add("Invalid user admin from 203.0.113.9"),
    ]
    miner.finish()
    groups = [miner.group(i).id for i in ids]
    assert groups[0] == groups[1] and groups[2] == groups[3] and groups[4] == groups[5]
    assert len(set(groups)) == 3
    assert miner.group(ids[0]).template == (
        "Connection pool exhausted after <*> ms (active=<*>, idle=<*>)"
    )
    assert miner.group(ids[4]).template == "Invalid user <*> from <*>"


def test_different_events_of_one_length_stay_apart() -> None:
    miner = TemplateMiner()
    for _ in range(6):
        miner.add("Received disconnect from 10.0.0.1: 11: Bye Bye [preauth]")
    odd = miner.add("Received disconnect from 10.0.0.2: 11: disconnected by user")
    states = [
        miner.add(f"Task {n} Transitioned from {a} to {b}")
        for n, (a, b) in enumerate([("NEW", "SCHEDULED"), ("SCHEDULED", "RUNNING")])
    ]
    miner.finish()
    assert miner.group(odd).template == "Received disconnect from <*>: <*>: disconnected by user"
    assert miner.group(states[0]).id != miner.group(states[1]).id


def test_a_value_printed_in_a_varying_number_of_words_is_one_group() -> None:
    miner = TemplateMiner()
    ids = [
        miner.add("host:80 close, 451 bytes sent, 353 bytes received, lifetime 00:02"),
        miner.add("host:80 close, 1190 bytes (1.16 KB) sent, 353 bytes received, lifetime 00:02"),
        miner.add("host:80 close, 451 bytes sent, 18846 bytes (18.4 KB) received, lifetime <1 sec"),
    ]
    miner.finish()
    assert len({miner.group(i).id for i in ids}) == 1


def test_a_value_that_only_ever_took_one_value_joins_the_general_template() -> None:
    miner = TemplateMiner()
    first = [miner.add("Failed password for root from 10.0.0.1 port 22 ssh2") for _ in range(8)]
    others = [
        miner.add(f"Failed password for {u} from 10.0.0.1 port 22 ssh2")
        for u in ("admin", "guest", "test")
    ]
    miner.finish()
    assert {miner.group(i).id for i in first + others} == {miner.group(others[0]).id}
    assert miner.group(first[0]).template == "Failed password for <*> from <*> port <*> ssh2"


def test_every_line_of_a_tomcat_log_gets_a_template() -> None:
    lines = samples.TOMCAT_APP.splitlines()
    result = template_lines(lines)
    rows = list(result.rows())
    assert [r[0] for r in rows] == list(range(1, len(lines) + 1))
    by_line = {r[0]: r[2] for r in rows}
    assert by_line[2] == by_line[16] == "Checkout failed for order <*>"
    assert by_line[14] == "Connection pool exhausted after <*> ms (active=<*>, idle=<*>)"
    assert by_line[3] == "java.lang.IllegalStateException: Entity '<*>' has no primary key"
    assert by_line[4] == "at com.acme.platform.entity.EntityMapper.keyOf(EntityMapper.java:<*>)"
    assert rows[1][1] == rows[15][1]


def test_the_miner_stays_bounded() -> None:
    miner = TemplateMiner(max_clusters=10)
    for n in range(200):
        miner.add(f"distinct{n} words{n} here{n} and{n} there{n}")
    assert len(miner) <= 11  # the limit, and one cluster for what overflows it
