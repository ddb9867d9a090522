"""Writers queued on one collection commit together (recognito.collections.store's group commit),
and each still gets its own answer: the faces it asked for, the refusals and errors that are its own.

The turn on the collection is held by a plan that waits, until every writer has queued behind it;
then one round plans them all against the same record and commits the compatible ones in one
transaction. Embeddings are made to resemble each other or not (as in test_faces_users), so the
answers are known from geometry, and each differs by writer.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import call
from recognito.collections import store
from recognito.storage import FaceRecord
from test_faces_users import counts, identity, index

pytestmark = pytest.mark.usefixtures("aws")

WRITERS = 10


@pytest.fixture
def collection():
    call("CreateCollection", {"CollectionId": "queue"})
    return "queue"


def _holding_the_turn(collection: str, queued: int, requests: list) -> list:
    """Send ``requests`` (AssociateFaces bodies, or functions to call) from one thread each while a
    plan holds the collection's turn; let it go once ``queued`` writers wait behind it. Their
    answers ((status, body) for a request), in order."""
    release, holding = threading.Event(), threading.Event()

    def hold(_: object) -> store.Plan:
        holding.set()
        release.wait(30)
        return store.Plan(result="held")

    turn = store._turn(collection)  # noqa: SLF001 - the test waits for the queue to fill
    with ThreadPoolExecutor(len(requests) + 1) as pool:
        held = pool.submit(store.commit, collection, hold)
        assert holding.wait(30)
        answers = [
            pool.submit(request) if callable(request) else pool.submit(call, "AssociateFaces", request)
            for request in requests
        ]
        deadline = time.monotonic() + 30
        while len(turn.group._queue) < queued + 1 and time.monotonic() < deadline:  # noqa: SLF001
            time.sleep(0.01)
        assert len(turn.group._queue) == queued + 1, "the writers did not all queue"  # noqa: SLF001
        release.set()
        assert held.result() == "held"
        return [answer.result() for answer in answers]


def test_queued_writers_commit_together_and_each_gets_its_own_answer(collection, monkeypatch):
    people = [index(collection, identity(100 + i, 1))[0] for i in range(WRITERS)]
    alice = index(collection, identity(200, 2))
    stranger = index(collection, identity(300, 1))[0]
    for i in range(WRITERS):
        call("CreateUser", {"CollectionId": collection, "UserId": f"user-{i}"})
    call("CreateUser", {"CollectionId": collection, "UserId": "alice"})
    call("AssociateFaces", {"CollectionId": collection, "UserId": "alice", "FaceIds": alice[:1]})
    first = {"CollectionId": collection, "UserId": "user-0", "FaceIds": [people[0]], "ClientRequestToken": "t-0"}
    assert call("AssociateFaces", first)[0] == 200  # a request that a retry below repeats

    transactions: list[int] = []
    transact = store._transact  # noqa: SLF001

    def counted(collection_id, record, plans):
        transactions.append(len(plans))
        return transact(collection_id, record, plans)

    monkeypatch.setattr(store, "_transact", counted)
    requests = [
        *[{"CollectionId": collection, "UserId": f"user-{i}", "FaceIds": [people[i]]} for i in range(1, WRITERS)],
        # alice's second face resembles her first; the stranger does not: one request, two answers
        {"CollectionId": collection, "UserId": "alice", "FaceIds": [alice[1], stranger]},
        {"CollectionId": collection, "UserId": "nobody", "FaceIds": [stranger]},  # no such user
        # user-1 asks for user-0's face, already associated before the round
        {"CollectionId": collection, "UserId": "user-1", "FaceIds": [people[0]]},
        first,  # a retry: the first answer again, nothing written
        {**first, "FaceIds": [stranger]},  # the same token for another request
    ]
    # The last two are answered from the token's record without queueing on the collection.
    answers = _holding_the_turn(collection, len(requests) - 2, requests)

    for i, (status, body) in enumerate(answers[: WRITERS - 1], start=1):
        assert status == 200, body
        expected = {"AssociatedFaces": [{"FaceId": people[i]}], "UnsuccessfulFaceAssociations": []}
        assert body == {**expected, "UserStatus": "ACTIVE"}
    status, body = answers[WRITERS - 1]
    assert status == 200 and body["AssociatedFaces"] == [{"FaceId": alice[1]}]
    (refusal,) = body["UnsuccessfulFaceAssociations"]
    assert refusal["FaceId"] == stranger and refusal["Reasons"] == ["LOW_MATCH_CONFIDENCE"]
    assert refusal["Confidence"] < 75
    status, body = answers[WRITERS]
    assert (status, body["__type"]) == (400, "ResourceNotFoundException")
    assert "nobody" in body["message"]
    status, body = answers[WRITERS + 1]
    assert status == 200 and body["AssociatedFaces"] == []
    assert body["UnsuccessfulFaceAssociations"] == [
        {"FaceId": people[0], "UserId": "user-1", "Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"]}
    ]
    status, body = answers[WRITERS + 2]
    assert status == 200 and body["AssociatedFaces"] == [{"FaceId": people[0]}]
    status, body = answers[WRITERS + 3]
    assert (status, body["__type"]) == (400, "IdempotentParameterMismatchException")

    # One transaction committed every writer that wrote, and the state is what the answers say.
    assert transactions == [WRITERS]
    owners = {record.face_id: record.user_id for record in FaceRecord.query(collection)}
    assert owners == {
        **{people[i]: f"user-{i}" for i in range(WRITERS)},
        alice[0]: "alice",
        alice[1]: "alice",
        stranger: None,
    }
    assert counts(collection) == (WRITERS + 3, WRITERS + 1)


def test_writers_of_one_item_are_not_committed_together(collection):
    """Two writers asking for the same face for different users: the first queued gets it, the
    second is planned again in the next round and refused, as if it had come after."""
    face = index(collection, identity(400, 1))[0]
    for user in ("first", "second"):
        call("CreateUser", {"CollectionId": collection, "UserId": user})
    requests = [{"CollectionId": collection, "UserId": user, "FaceIds": [face]} for user in ("first", "second")]
    (status_a, a), (status_b, b) = _holding_the_turn(collection, 2, requests)
    assert status_a == status_b == 200
    winner, loser = (a, b) if a["AssociatedFaces"] else (b, a)
    assert winner["AssociatedFaces"] == [{"FaceId": face}] and loser["AssociatedFaces"] == []
    assert loser["UnsuccessfulFaceAssociations"][0]["Reasons"] == ["ASSOCIATED_TO_A_DIFFERENT_USER"]
    owner = FaceRecord.get(collection, face).user_id
    assert owner == ("first" if winner is a else "second")


def test_idempotency_records_written_together_answer_as_alone():
    """Powertools' conditional puts of several requests in one transaction: the one whose record
    exists fails as its own PutItem would (with the record, which Powertools reads), the new ones
    are written (one of them twice: the second is its own failure, in a later round)."""
    import boto3
    from recognito.idempotency import GroupedWrites
    from recognito.locks import Ticket
    from recognito.storage.tables import idempotency_table_name

    client, table = boto3.client("dynamodb"), idempotency_table_name()
    client.put_item(TableName=table, Item={"id": {"S": "done"}, "status": {"S": "COMPLETED"}})

    def put(key: str) -> tuple[str, dict]:
        item = {"id": {"S": key}, "status": {"S": "INPROGRESS"}}
        condition = {"ConditionExpression": "attribute_not_exists(#id)", "ExpressionAttributeNames": {"#id": "id"}}
        return "Put", {"TableName": table, "Item": item, **condition, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}

    writes = GroupedWrites(client)
    tickets = [Ticket(put(key)) for key in ("new-1", "done", "new-2", "new-1")]
    rounds = 0
    while not all(ticket.done for ticket in tickets):
        writes._round([ticket for ticket in tickets if not ticket.done])  # noqa: SLF001
        rounds += 1
    assert rounds <= 3
    new_1, done, new_2, again = tickets
    assert new_1.error is None and new_2.error is None
    for failed in (done, again):
        assert failed.error.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert done.error.response["Item"]["status"] == {"S": "COMPLETED"}
    assert again.error.response["Item"]["status"] == {"S": "INPROGRESS"}
    stored = {item["id"]["S"]: item["status"]["S"] for item in client.scan(TableName=table)["Items"]}
    assert stored == {"done": "COMPLETED", "new-1": "INPROGRESS", "new-2": "INPROGRESS"}


def test_completing_a_record_put_here_stores_what_the_update_would():
    """Powertools' two writes (a record in progress, then its answer) through ``GroupedWrites``
    and straight to DynamoDB leave the same item; the second one went as a put."""
    import boto3
    from recognito.idempotency import GroupedWrites
    from recognito.storage.tables import idempotency_table_name

    client, table = boto3.client("dynamodb"), idempotency_table_name()
    writes, sent = GroupedWrites(client), []
    writes._group._run = lambda tickets, run=writes._group._run: sent.extend(t.work[0] for t in tickets) or run(tickets)  # noqa: SLF001
    for writer, key in ((writes, "grouped"), (client, "direct")):
        item = {"id": {"S": key}, "status": {"S": "INPROGRESS"}, "expiration": {"N": "99"}}
        writer.put_item(TableName=table, Item={**item, "in_progress_expiration": {"N": "5"}})
        writer.update_item(
            TableName=table,
            Key={"id": {"S": key}},
            UpdateExpression="SET #response_data = :response_data, #expiry = :expiry, #status = :status",
            ExpressionAttributeNames={"#response_data": "data", "#expiry": "expiration", "#status": "status"},
            ExpressionAttributeValues={
                ":response_data": {"S": '{"UserStatus": "ACTIVE"}'},
                ":expiry": {"N": "100"},
                ":status": {"S": "COMPLETED"},
            },
        )
    grouped, direct = (
        client.get_item(TableName=table, Key={"id": {"S": key}})["Item"] for key in ("grouped", "direct")
    )
    assert {**grouped, "id": None} == {**direct, "id": None}
    assert direct["status"] == {"S": "COMPLETED"} and direct["in_progress_expiration"] == {"N": "5"}
    assert sent == ["Put", "Put"]


def test_queued_index_and_delete_commit_together(collection, monkeypatch):
    """IndexFaces' storage (new faces) and DeleteFaces queued on one collection: one transaction."""
    doomed, kept = index(collection, identity(500, 2))
    transactions: list[int] = []
    transact = store._transact  # noqa: SLF001
    monkeypatch.setattr(store, "_transact", lambda *args: transactions.append(len(args[2])) or transact(*args))
    adds = [lambda seed=seed: index(collection, identity(seed, 2)) for seed in range(600, 604)]
    deletion = lambda: call("DeleteFaces", {"CollectionId": collection, "FaceIds": [doomed]})  # noqa: E731
    *added, (status, deleted) = _holding_the_turn(collection, 5, [*adds, deletion])
    assert transactions == [5]
    assert status == 200 and deleted["DeletedFaces"] == [doomed]
    live = {record.face_id for record in FaceRecord.query(collection) if not record.deleted}
    assert live == {kept, *(face_id for ids in added for face_id in ids)} and len(live) == 9
    assert counts(collection) == (9, 0)
