"""A photo in a message over HTTP: the owner uploads a real JPEG (POST /media, multipart),
sends it in a reply, and the renter reads it back in the conversation's messages and
fetches it (EXIF and GPS gone, the size asked for)."""

from __future__ import annotations

import io

from PIL import Image

from tests import image_files as f
from tests.conversation_builders import new_chat
from tests.http.bookings_support import code
from tests.http.conftest import Api
from tests.http.test_media_http import fetch, uploaded


def test_a_photo_uploaded_then_sent_in_a_message_is_read_back_by_the_recipient(
    api: Api,
) -> None:
    chat = new_chat(api)
    renter, owner = chat.m.renter, chat.m.owner
    cid = chat.inquired("Is the balcony sunny?")["id"]
    photo = uploaded(api, owner, f.jpeg(1200, 800, orientation=1))

    r = chat.write(owner, cid, "Here it is at noon.", photo_ids=[photo["id"]])
    assert r.status_code == 201, r.text
    assert r.json()["photo_ids"] == [photo["id"]]

    question, reply = chat.messages(renter, cid)[-2:]
    assert question["text"] == "Is the balcony sunny?" and question["photo_ids"] == []
    assert reply["text"] == "Here it is at noon." and reply["photo_ids"] == [photo["id"]]
    assert reply["sender_id"] == owner.id and reply["recipient_id"] == renter.id

    shown = fetch(api, {"id": reply["photo_ids"][0], "position": photo["position"]}, "display")
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(shown.content)) as img:
        assert img.size == (1200, 800) and dict(img.getexif()) == {}
    assert f.SECRET.encode() not in shown.content


def test_a_photo_someone_else_uploaded_cannot_be_sent(api: Api) -> None:
    chat = new_chat(api)
    cid = chat.inquired()["id"]
    theirs = uploaded(api, chat.m.owner)
    r = chat.write(chat.m.renter, cid, "look", photo_ids=[theirs["id"]])
    assert r.status_code == 422 and code(r) == "unknown_media", r.text  # only your own
    assert all(m["photo_ids"] == [] for m in chat.messages(chat.m.renter, cid))
