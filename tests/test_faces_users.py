"""Faces and users of a collection, through their handlers (storage paths; no model involved).

Faces are added with the storage half of IndexFaces and embeddings made to resemble each other
or not, so that user association rules are exercised on known geometry.
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from conftest import call
from recognito.collections.faces import NewFace, add_faces
from recognito.collections.store import DynamoFaceFeed
from recognito.faces.similarity import FACE_MODEL_VERSION, face_model
from recognito.storage import CollectionRecord

pytestmark = pytest.mark.usefixtures("aws")

RNG = np.random.default_rng(7)
BOX = {"Width": 0.2, "Height": 0.3, "Left": 0.1, "Top": 0.1}
DIM = face_model(FACE_MODEL_VERSION).dim  # CreateCollection makes collections of this version


def identity(seed: int, faces: int, spread: float = 0.35) -> list[np.ndarray]:
    """Unit vectors around one random centre: cosine about 0.9 to each other, about 0 to others."""
    centre = np.random.default_rng(seed).standard_normal(DIM)
    centre /= np.linalg.norm(centre)
    out = []
    for _ in range(faces):
        noise = RNG.standard_normal(DIM)
        vector = centre + spread * noise / np.linalg.norm(noise)
        out.append(vector / np.linalg.norm(vector))
    return out


def index(collection: str, vectors: list[np.ndarray], external: str | None = None) -> list[str]:
    faces = [NewFace(vector, BOX, 99.9) for vector in vectors]
    described = add_faces(
        collection, faces, version=FACE_MODEL_VERSION, image_id=str(uuid.uuid4()), external_image_id=external
    )
    return [face["FaceId"] for face in described]


def counts(collection: str) -> tuple[int, int]:
    described = call("DescribeCollection", {"CollectionId": collection})[1]
    return described["FaceCount"], described["UserCount"]


@pytest.fixture
def collection():
    call("CreateCollection", {"CollectionId": "people"})
    return "people"


def test_list_and_delete_faces(collection):
    ids = index(collection, identity(1, 3), external="alice.jpg")
    status, listed = call("ListFaces", {"CollectionId": collection})
    assert status == 200
    assert {face["FaceId"] for face in listed["Faces"]} == set(ids)
    face = listed["Faces"][0]
    assert face["ExternalImageId"] == "alice.jpg" and face["BoundingBox"] == BOX
    assert face["IndexFacesModelVersion"] == listed["FaceModelVersion"]
    assert counts(collection) == (3, 0)

    ghost = str(uuid.uuid4())
    status, deleted = call("DeleteFaces", {"CollectionId": collection, "FaceIds": [ids[0], ghost]})
    assert status == 200
    assert deleted["DeletedFaces"] == [ids[0]]
    assert deleted["UnsuccessfulFaceDeletions"] == [{"FaceId": ghost, "Reasons": ["FACE_NOT_FOUND"]}]
    assert counts(collection) == (2, 0)
    listed = call("ListFaces", {"CollectionId": collection})[1]
    assert ids[0] not in {face["FaceId"] for face in listed["Faces"]}
    # Deleting again is FACE_NOT_FOUND, and the count does not move.
    again = call("DeleteFaces", {"CollectionId": collection, "FaceIds": [ids[0]]})[1]
    assert "DeletedFaces" not in again and counts(collection) == (2, 0)  # the model's min 1: left out


def test_a_write_from_another_process_is_not_overwritten_by_the_next_here(collection):
    """Writers here plan against the record the last of them left; one elsewhere (another Lambda
    instance) moves the collection behind their back, and the next commit here must re-read."""
    index(collection, identity(3, 2))
    call("CreateUser", {"CollectionId": collection, "UserId": "before"})
    seq = int(CollectionRecord.get(collection, consistent_read=True).seq)
    CollectionRecord(collection).update(actions=[CollectionRecord.seq.add(5), CollectionRecord.face_count.add(1)])

    assert call("CreateUser", {"CollectionId": collection, "UserId": "after"})[0] == 200
    index(collection, identity(4, 1))

    assert counts(collection) == (4, 2)
    assert int(CollectionRecord.get(collection, consistent_read=True).seq) == seq + 5 + 1


def test_list_faces_pages_and_filters(collection):
    ids = index(collection, identity(2, 7))
    seen, token = [], None
    while True:
        page = call(
            "ListFaces", {"CollectionId": collection, "MaxResults": 3, **({"NextToken": token} if token else {})}
        )
        seen += [face["FaceId"] for face in page[1]["Faces"]]
        token = page[1].get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted(ids)
    picked = call("ListFaces", {"CollectionId": collection, "FaceIds": ids[:2]})[1]
    assert {face["FaceId"] for face in picked["Faces"]} == set(ids[:2])
    status, error = call("ListFaces", {"CollectionId": collection, "NextToken": "bogus"})
    assert (status, error["__type"]) == (400, "InvalidPaginationTokenException")
    status, error = call("ListFaces", {"CollectionId": "nobody"})
    assert (status, error["__type"]) == (400, "ResourceNotFoundException")


def test_users_group_faces_and_refuse_strangers(collection):
    alice = index(collection, identity(10, 3))
    bob = index(collection, identity(20, 1))
    assert call("CreateUser", {"CollectionId": collection, "UserId": "alice"}) == (200, {})
    status, error = call("CreateUser", {"CollectionId": collection, "UserId": "alice"})
    assert (status, error["__type"]) == (400, "ConflictException")
    assert counts(collection) == (4, 1)

    users = call("ListUsers", {"CollectionId": collection})[1]["Users"]
    assert users == [{"UserId": "alice", "UserStatus": "CREATED"}]

    status, result = call("AssociateFaces", {"CollectionId": collection, "UserId": "alice", "FaceIds": alice[:2]})
    assert status == 200 and {face["FaceId"] for face in result["AssociatedFaces"]} == set(alice[:2])
    assert result["UserStatus"] == "ACTIVE"

    status, result = call(
        "AssociateFaces", {"CollectionId": collection, "UserId": "alice", "FaceIds": [alice[2], bob[0]]}
    )
    assert [face["FaceId"] for face in result["AssociatedFaces"]] == [alice[2]]
    (refusal,) = result["UnsuccessfulFaceAssociations"]
    assert refusal["FaceId"] == bob[0] and refusal["Reasons"] == ["LOW_MATCH_CONFIDENCE"]
    assert refusal["Confidence"] < 75

    listed = call("ListFaces", {"CollectionId": collection, "UserId": "alice"})[1]["Faces"]
    assert {face["FaceId"] for face in listed} == set(alice)
    assert all(face["UserId"] == "alice" for face in listed)

    # A face that belongs to a user is not deleted.
    deleted = call("DeleteFaces", {"CollectionId": collection, "FaceIds": [alice[0]]})[1]
    assert deleted["UnsuccessfulFaceDeletions"][0]["Reasons"] == ["ASSOCIATED_TO_AN_EXISTING_USER"]

    call("CreateUser", {"CollectionId": collection, "UserId": "bob"})
    other = call("AssociateFaces", {"CollectionId": collection, "UserId": "bob", "FaceIds": [alice[0]]})[1]
    assert other["UnsuccessfulFaceAssociations"][0]["Reasons"] == ["ASSOCIATED_TO_A_DIFFERENT_USER"]

    released = call("DisassociateFaces", {"CollectionId": collection, "UserId": "alice", "FaceIds": [alice[0]]})[1]
    assert released["DisassociatedFaces"] == [{"FaceId": alice[0]}] and released["UserStatus"] == "ACTIVE"

    assert call("DeleteUser", {"CollectionId": collection, "UserId": "alice"}) == (200, {})
    assert counts(collection) == (4, 1)
    assert all("UserId" not in face for face in call("ListFaces", {"CollectionId": collection})[1]["Faces"])
    status, error = call("DeleteUser", {"CollectionId": collection, "UserId": "alice"})
    assert (status, error["__type"]) == (400, "ResourceNotFoundException")


def test_a_user_holds_at_most_100_faces(collection):
    ids = index(collection, identity(30, 101, spread=0.2))
    call("CreateUser", {"CollectionId": collection, "UserId": "many"})
    assert call("AssociateFaces", {"CollectionId": collection, "UserId": "many", "FaceIds": ids[:100]})[0] == 200
    status, error = call("AssociateFaces", {"CollectionId": collection, "UserId": "many", "FaceIds": ids[100:]})
    assert (status, error["__type"]) == (400, "ServiceQuotaExceededException")


def test_client_request_token_is_idempotent(collection):
    request = {"CollectionId": collection, "UserId": "carol", "ClientRequestToken": "token-1"}
    assert call("CreateUser", request) == (200, {})
    assert call("CreateUser", request) == (200, {})  # a retry, not a conflict
    assert counts(collection) == (0, 1)
    status, error = call("CreateUser", {**request, "UserId": "dave"})
    assert (status, error["__type"]) == (400, "IdempotentParameterMismatchException")


def test_feed_sees_every_change_in_order(collection):
    ids = index(collection, identity(40, 3))
    call("DeleteFaces", {"CollectionId": collection, "FaceIds": [ids[1]]})
    changes = list(DynamoFaceFeed().changes_since(collection, 0))
    assert [change.seq for change in changes] == sorted(change.seq for change in changes)
    by_id = {change.face_id: change for change in changes}
    assert by_id[ids[1]].embedding is None and by_id[ids[0]].embedding.shape == (DIM,)
    latest = max(change.seq for change in changes)
    assert list(DynamoFaceFeed().changes_since(collection, latest)) == []


def test_search_faces_finds_the_same_identity_and_never_deleted_faces(collection):
    alice = index(collection, identity(50, 4))
    bob = index(collection, identity(60, 3))
    status, found = call("SearchFaces", {"CollectionId": collection, "FaceId": alice[0]})
    assert status == 200 and found["SearchedFaceId"] == alice[0]
    assert {match["Face"]["FaceId"] for match in found["FaceMatches"]} == set(alice[1:])
    similarities = [match["Similarity"] for match in found["FaceMatches"]]
    assert similarities == sorted(similarities, reverse=True) and min(similarities) >= 80

    # Indexed by one call, found by the next; deleted, never found again.
    late = index(collection, identity(50, 1))[0]
    call("DeleteFaces", {"CollectionId": collection, "FaceIds": [alice[1]]})
    found = call("SearchFaces", {"CollectionId": collection, "FaceId": alice[0], "MaxFaces": 10})[1]
    assert {match["Face"]["FaceId"] for match in found["FaceMatches"]} == {alice[2], alice[3], late}

    assert (
        len(call("SearchFaces", {"CollectionId": collection, "FaceId": alice[0], "MaxFaces": 1})[1]["FaceMatches"]) == 1
    )
    low = call("SearchFaces", {"CollectionId": collection, "FaceId": bob[0], "FaceMatchThreshold": 0})[1]
    assert {match["Face"]["FaceId"] for match in low["FaceMatches"]} >= set(bob[1:])
    status, error = call("SearchFaces", {"CollectionId": collection, "FaceId": str(uuid.uuid4())})
    assert (status, error["__type"]) == (400, "InvalidParameterException")


def test_search_users_by_face_and_by_user(collection):
    alice = index(collection, identity(70, 4))
    bob = index(collection, identity(80, 2))
    for user, faces in (("alice", alice[:3]), ("bob", bob[:1])):
        call("CreateUser", {"CollectionId": collection, "UserId": user})
        call("AssociateFaces", {"CollectionId": collection, "UserId": user, "FaceIds": faces})
    status, found = call("SearchUsers", {"CollectionId": collection, "FaceId": alice[3]})
    assert status == 200 and found["SearchedFace"] == {"FaceId": alice[3]}
    assert [match["User"]["UserId"] for match in found["UserMatches"]] == ["alice"]
    assert found["UserMatches"][0]["User"]["UserStatus"] == "ACTIVE"
    found = call("SearchUsers", {"CollectionId": collection, "FaceId": bob[1]})[1]
    assert [match["User"]["UserId"] for match in found["UserMatches"]] == ["bob"]
    # A user is searched with its own faces and is not its own match.
    found = call("SearchUsers", {"CollectionId": collection, "UserId": "alice", "UserMatchThreshold": 0})[1]
    assert found["SearchedUser"] == {"UserId": "alice"}
    assert "alice" not in [match["User"]["UserId"] for match in found["UserMatches"]]
    status, error = call("SearchUsers", {"CollectionId": collection})
    assert (status, error["__type"]) == (400, "InvalidParameterException")


def test_delete_collection_takes_its_faces_and_users(collection):
    index(collection, identity(90, 2))
    call("CreateUser", {"CollectionId": collection, "UserId": "gone"})
    assert call("DeleteCollection", {"CollectionId": collection})[0] == 200
    call("CreateCollection", {"CollectionId": collection})
    assert call("ListFaces", {"CollectionId": collection})[1]["Faces"] == []
    assert call("ListUsers", {"CollectionId": collection})[1]["Users"] == []
    assert counts(collection) == (0, 0)


def test_list_users_pages_with_tokens(collection):
    names = {f"user-{number}" for number in range(5)}
    for name in names:
        call("CreateUser", {"CollectionId": collection, "UserId": name})
    seen, token = [], None
    while True:
        page = call(
            "ListUsers", {"CollectionId": collection, "MaxResults": 2, **({"NextToken": token} if token else {})}
        )
        assert page[0] == 200 and len(page[1]["Users"]) <= 2
        seen += [user["UserId"] for user in page[1]["Users"]]
        token = page[1].get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted(names)
    # A token of one listing is no good for another.
    token = call("ListUsers", {"CollectionId": collection, "MaxResults": 2})[1]["NextToken"]
    status, error = call("ListFaces", {"CollectionId": collection, "NextToken": token})
    assert (status, error["__type"]) == (400, "InvalidPaginationTokenException")
