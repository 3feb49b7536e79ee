"""Client addresses: by network, behind trusted proxies only, never a value the client wrote."""

import datetime

import pytest
from django.test import RequestFactory

from releasenow.lib.crypto import client_address, client_digest, client_network

DAY = datetime.date(2026, 11, 24)


def request(remote="203.0.113.5", forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def digest(remote="203.0.113.5", forwarded=None, day=DAY):
    return client_digest(request(remote, forwarded), day)


def test_ipv4_clients_are_told_apart_by_address():
    assert digest("203.0.113.5") != digest("203.0.113.6")
    assert digest("203.0.113.5") == digest("203.0.113.5")


def test_ipv6_clients_are_keyed_by_their_64_network():
    assert digest("2001:db8:1:2::1") == digest("2001:db8:1:2:ffff:abcd:1234:5678")
    assert digest("2001:db8:1:2::1") != digest("2001:db8:1:3::1")
    assert client_network(request("2001:db8:1:2:aaaa::1")) == "2001:db8:1:2::/64"


def test_prefixes_are_configurable(settings):
    settings.CLIENT_IPV4_PREFIX = 24
    settings.CLIENT_IPV6_PREFIX = 48
    assert digest("203.0.113.5") == digest("203.0.113.200")
    assert digest("2001:db8:1:2::1") == digest("2001:db8:1:ffff::1")


def test_ipv4_mapped_ipv6_counts_as_the_ipv4_address():
    assert digest("::ffff:203.0.113.5") == digest("203.0.113.5")


def test_the_digest_rotates_daily_and_never_contains_the_address():
    value = digest("203.0.113.5")
    assert value != digest("203.0.113.5", day=DAY + datetime.timedelta(days=1))
    assert "203" not in value and len(value) == 32


def test_without_trusted_proxies_forwarded_headers_are_ignored():
    assert digest("203.0.113.5", "198.51.100.1") == digest("203.0.113.5")
    assert str(client_address(request("203.0.113.5", "198.51.100.1"))) == "203.0.113.5"


@pytest.mark.parametrize(
    "forged",
    ["198.51.100.1", "198.51.100.1, 10.0.0.1", "not an address", "2001:db8::1", "1.1.1.1, " * 50],
)
def test_behind_one_proxy_a_forged_forwarded_for_changes_nothing(settings, forged):
    """nginx `proxy_add_x_forwarded_for` appends the address it saw to whatever the client sent."""
    settings.TRUSTED_PROXY_HOPS = 1
    honest = request("127.0.0.1", "203.0.113.5")
    forged_request = request("127.0.0.1", f"{forged}, 203.0.113.5")
    assert str(client_address(honest)) == "203.0.113.5"
    assert str(client_address(forged_request)) == "203.0.113.5"
    assert client_digest(forged_request, DAY) == client_digest(honest, DAY)


def test_behind_one_proxy_visitors_are_told_apart(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    assert digest("127.0.0.1", "203.0.113.5") != digest("127.0.0.1", "203.0.113.6")


def test_a_request_that_bypassed_the_proxy_counts_by_its_connection(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    assert str(client_address(request("203.0.113.5"))) == "203.0.113.5"
    assert str(client_address(request("203.0.113.5", ""))) == "203.0.113.5"


def test_a_cdn_in_front_of_nginx_is_two_hops(settings):
    settings.TRUSTED_PROXY_HOPS = 2
    chain = "6.6.6.6, 203.0.113.5, 192.0.2.10"  # forged, client (seen by the CDN), CDN edge
    assert str(client_address(request("127.0.0.1", chain))) == "203.0.113.5"


def test_trusted_proxy_networks_are_skipped_from_the_right(settings):
    settings.TRUSTED_PROXY_HOPS = 1  # nginx
    settings.TRUSTED_PROXIES = ["192.0.2.0/24"]  # the CDN's edge servers
    via_cdn = request("127.0.0.1", "6.6.6.6, 203.0.113.5, 192.0.2.10")
    assert str(client_address(via_cdn)) == "203.0.113.5"
    # Someone going round the CDN straight to nginx is keyed by their own address.
    direct = request("127.0.0.1", "192.0.2.10, 203.0.113.66")
    assert str(client_address(direct)) == "203.0.113.66"


def test_trusted_proxies_alone_apply_only_to_connections_from_them(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert str(client_address(request("10.1.2.3", "6.6.6.6, 203.0.113.5"))) == "203.0.113.5"
    assert str(client_address(request("203.0.113.9", "6.6.6.6"))) == "203.0.113.9"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [("203.0.113.5:4711", "203.0.113.5"), ("[2001:db8::5]:443", "2001:db8::5")],
)
def test_addresses_with_ports_are_understood(settings, entry, expected):
    settings.TRUSTED_PROXY_HOPS = 1
    assert str(client_address(request("127.0.0.1", entry))) == expected


def test_garbage_where_the_proxy_writes_falls_back_to_the_proxy(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    assert str(client_address(request("127.0.0.1", "garbage"))) == "127.0.0.1"
    assert client_network(request("", None)) == "unknown"
