from email import message_from_bytes

from django.core.mail import EmailMultiAlternatives, get_connection


def test_outbox_backend_writes_one_eml_file_per_message(tmp_path):
    connection = get_connection("releasenow.lib.emails.OutboxBackend", outbox_dir=tmp_path)
    messages = [
        EmailMultiAlternatives("Подпіс", "Дзякуй", "from@example.org", [f"to{i}@example.org"])
        for i in range(2)
    ]
    messages[0].attach_alternative("<p>Дзякуй</p>", "text/html")
    assert connection.send_messages(messages) == 2
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 2
    parsed = message_from_bytes(files[0].read_bytes())
    assert parsed["To"] in ("to0@example.org", "to1@example.org")
    assert parsed.is_multipart() or "Дзякуй" in parsed.get_payload(decode=True).decode()


def test_outbox_files_are_private_and_pruned_after_seven_days(tmp_path):
    import os
    import time

    from releasenow.lib.emails import prune_outbox

    connection = get_connection("releasenow.lib.emails.OutboxBackend", outbox_dir=tmp_path)
    connection.send_messages(
        [
            EmailMultiAlternatives("S", "B", "from@example.org", [f"to{i}@example.org"])
            for i in range(2)
        ]
    )
    old, new = sorted(tmp_path.glob("*.eml"))
    assert old.stat().st_mode & 0o777 == 0o600 and tmp_path.stat().st_mode & 0o077 == 0
    eight_days_ago = time.time() - 8 * 86400
    os.utime(old, (eight_days_ago, eight_days_ago))
    assert prune_outbox(outbox_dir=tmp_path) == 1
    assert list(tmp_path.glob("*.eml")) == [new]


def test_addresses_are_formatted_by_the_standard_library():
    import pytest

    from releasenow.lib.emails import format_address

    assert (
        format_address("Release NO:W", "noreply@example.org")
        == '"Release NO:W" <noreply@example.org>'
    )
    assert format_address("", "noreply@example.org") == "noreply@example.org"
    assert format_address("Вызваленне", "a@example.org").startswith("=?utf-8?")
    with pytest.raises(ValueError):
        format_address("X", "not an address")
