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
