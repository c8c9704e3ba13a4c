"""Every failure answers with the one JSON error format, never HTML or a stack trace."""

from tests.factories import api_key, bearer, make_manager, make_partner


def assert_error_format(response, status, code):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_an_invalid_body_names_the_offending_fields(client):
    response = client.post("/auth/token", json={"email": "not-an-email"})
    body = assert_error_format(response, 422, "validation_error")
    assert set(body["errors"]) == {"email", "password"}


def test_a_422_says_whether_the_body_or_the_parameters_were_wrong(client, session):
    body = assert_error_format(client.post("/auth/token", json={}), 422, "validation_error")
    assert body["message"] == "The request body is not valid."
    # the query's schema (webargs), then a rule a schema cannot see (InvalidInput), on GETs
    for path, field in (
        ("/oruk/services?per_page=0", "per_page"),
        ("/oruk/services?taxonomy_id=astrology", "taxonomy_id"),
    ):
        body = assert_error_format(client.get(path), 422, "validation_error")
        assert body["message"] == "The request's parameters are not valid.", path
        assert set(body["errors"]) == {field}


def test_a_body_that_is_not_json_is_a_clear_error(client):
    response = client.post("/auth/token", data="{oops", content_type="application/json")
    assert_error_format(response, 400, "bad_request")


def test_a_request_without_credentials_is_401(client):
    assert_error_format(client.get("/auth/me"), 401, "unauthenticated")


def test_a_wrong_api_key_is_401(client):
    assert_error_format(
        client.get("/auth/me", headers=api_key("iak_nope_nope")), 401, "unauthenticated"
    )


def test_a_wrong_bearer_token_is_401(client):
    response = client.get("/auth/me", headers={"Authorization": "Bearer iat_forged"})
    assert_error_format(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_malformed_authorization_header_is_401(client):
    assert_error_format(
        client.get("/auth/me", headers={"Authorization": "Basic abc"}), 401, "unauthenticated"
    )


def test_a_second_credential_or_an_empty_one_is_401_never_ignored(client, session):
    """Each credential alone reads the seekers' requests (a partner's and a manager's); a
    wrong, empty or second credential beside a good one is refused, whichever it is."""
    key = api_key(make_partner(session)[1])
    token = bearer(session, make_manager(session))
    assert client.get("/care-requests", headers=key).status_code == 200
    assert client.get("/care-requests", headers=token).status_code == 200
    for headers, message in (
        ({**key, **token}, "Send one credential: X-API-Key or Authorization, not both."),
        ({**key, "Authorization": "Bearer iat_forged"}, None),
        ({**token, "X-API-Key": "iak_nope_nope"}, None),
        ({**token, "X-API-Key": ""}, None),
        ({**key, "Authorization": ""}, None),
        ({"X-API-Key": " "}, "The X-API-Key header is empty."),
        ({"Authorization": ""}, "Use 'Authorization: Bearer <token>'."),
    ):
        body = assert_error_format(
            client.get("/care-requests", headers=headers), 401, "unauthenticated"
        )
        assert message is None or body["message"] == message


def test_an_unknown_url_is_a_json_404(client):
    assert_error_format(client.get("/no/such/thing"), 404, "not_found")


def test_a_wrong_method_is_a_json_405(client):
    response = client.delete("/health/live")
    assert_error_format(response, 405, "method_not_allowed")


def test_an_unexpected_error_is_a_json_500_without_a_trace(app, caplog):
    @app.get("/test-only/boom")
    def boom():
        raise RuntimeError("secret internals: Mrs Smith, BS3 4AB")

    response = app.test_client().get("/test-only/boom")
    body = assert_error_format(response, 500, "internal_error")
    assert "Traceback" not in response.get_data(as_text=True)
    assert "Mrs Smith" not in response.get_data(as_text=True)
    assert "request id" in body["message"]


def test_a_partner_is_refused_a_users_only_endpoint_with_403(client, session):
    _, secret = make_partner(session)
    assert_error_format(client.post("/auth/logout", headers=api_key(secret)), 403, "forbidden")


def test_a_manager_is_refused_a_partners_only_endpoint_with_403(client, session):
    headers = bearer(session, make_manager(session))
    assert_error_format(client.get("/auth/api-keys", headers=headers), 403, "forbidden")


def test_the_request_id_of_the_caller_is_kept_when_well_formed(client):
    response = client.get("/health/live", headers={"X-Request-ID": "trace-1234abcd"})
    assert response.headers["X-Request-ID"] == "trace-1234abcd"
    response = client.get("/health/live", headers={"X-Request-ID": "<script>"})
    assert response.headers["X-Request-ID"].startswith("req_")


def test_a_domain_error_with_its_own_code_and_extra_fields_answers_in_the_format(app):
    from agency.errors import Conflict

    @app.get("/test-only/conflict")
    def conflict():
        raise Conflict("Taken.", code="slug_taken", current_status="approved")

    response = app.test_client().get("/test-only/conflict")
    body = assert_error_format(response, 409, "slug_taken")
    assert body["current_status"] == "approved"


def test_an_auditor_writing_in_its_own_council_gets_403_read_only(session):
    import pytest

    from agency.access import Action, authorize
    from agency.errors import Forbidden
    from tests.factories import make_agency, make_auditor, principal_of

    agency = make_agency(session)
    auditor = principal_of(session, make_auditor(session, agency.council))
    authorize(auditor, Action.READ, agency)
    with pytest.raises(Forbidden) as refused:
        authorize(auditor, Action.WRITE, agency)
    assert refused.value.code == "read_only"


def test_list_queries_show_each_principal_only_its_own_rows(session):
    from sqlalchemy import select

    from agency.access import Kind, Principal, visible_to
    from agency.seekers.models import CareRequest
    from tests.factories import make_agency, make_care_request, make_seeker

    mine, theirs = make_agency(session), make_agency(session)
    partner, _ = make_partner(session)
    other_partner, _ = make_partner(session)
    a = make_care_request(session, make_seeker(session, partner.id), mine)
    b = make_care_request(session, make_seeker(session, other_partner.id), theirs)

    def seen(principal):
        return set(
            session.scalars(select(CareRequest.id).where(visible_to(CareRequest, principal)))
        )

    assert seen(Principal(Kind.MANAGER, "u1", agency_id=mine.id)) == {a.id}
    assert seen(Principal(Kind.AUDITOR, "u2", council_id=theirs.council_id)) == {b.id}
    assert seen(Principal(Kind.PARTNER, other_partner.id)) == {b.id}
    assert seen(Principal(Kind.PROVIDER, "u3", provider_id="prv_x")) == set()  # no provider column
    assert seen(Principal(Kind.ADMIN, "u4")) == {a.id, b.id}


# --- hostile input: never a 500 (issue 14) ---------------------------------------------------


def test_errors_keyed_by_list_index_and_schema_answer_422_not_500(client, session):
    # marshmallow keys list items' errors by int beside "_schema": jsonify cannot sort those.
    _, secret = make_partner(session)
    response = client.post(
        "/care-seekers/x/care-requests",
        json={"services": ["a", "a", ""]},
        headers=api_key(secret),
    )
    body = assert_error_format(response, 422, "validation_error")
    assert all(isinstance(key, str) for key in body["errors"])


def test_error_keys_are_made_strings_at_any_depth():
    from agency.errors import string_keys

    assert string_keys({"services": {1: ["Duplicate."], "_schema": ["x"]}, 2: [{3: "y"}]}) == {
        "services": {"1": ["Duplicate."], "_schema": ["x"]},
        "2": [{"3": "y"}],
    }


def test_a_nul_byte_in_a_query_parameter_is_422_naming_it(client, session):
    headers = bearer(session, make_manager(session))
    response = client.get("/neighbourhoods?council_id=%00", headers=headers)
    body = assert_error_format(response, 422, "validation_error")
    assert set(body["errors"]) == {"council_id"}


def test_a_nul_byte_in_a_path_parameter_is_422(client, session):
    headers = bearer(session, make_manager(session))
    response = client.get("/care-seekers/a%00b", headers=headers)
    body = assert_error_format(response, 422, "validation_error")
    assert set(body["errors"]) == {"seeker_id"}


def test_a_nul_byte_in_a_header_is_422_naming_it(client, session):
    headers = {**bearer(session, make_manager(session)), "X-Partner-Ref": "a\x00b"}
    response = client.get("/neighbourhoods", headers=headers)
    body = assert_error_format(response, 422, "validation_error")
    assert set(body["errors"]) == {"X-Partner-Ref"}


def test_a_nul_byte_in_a_json_string_is_422_naming_the_field(client, session):
    from tests.factories import make_provider

    provider = make_provider(session)
    from agency.accounts.models import User

    headers = bearer(session, session.get(User, provider.user_id))
    response = client.patch(f"/providers/{provider.id}", json={"bio": "a\u0000b"}, headers=headers)
    body = assert_error_format(response, 422, "validation_error")
    assert set(body["errors"]) == {"bio"}


def test_a_lone_surrogate_in_a_json_string_is_422_naming_its_place(client, session):
    _, secret = make_partner(session)
    response = client.post(
        "/care-seekers/x/care-requests",
        data='{"services": ["companionship", "\\ud800"]}',
        content_type="application/json",
        headers=api_key(secret),
    )
    body = assert_error_format(response, 422, "validation_error")
    assert set(body["errors"]) == {"services.1"}


def test_a_nul_escape_in_a_utf16_json_body_is_422_too(client, session):
    """The parser reads UTF-16 as well; such a body is checked string by string like any."""
    _, secret = make_partner(session)
    response = client.post(
        "/care-seekers/x/care-requests",
        data='{"services": ["companionship", "a\\u0000b"]}'.encode("utf-16"),
        content_type="application/json",
        headers=api_key(secret),
    )
    body = assert_error_format(response, 422, "validation_error")
    assert set(body["errors"]) == {"services.1"}


def test_a_nul_byte_in_a_json_key_is_422(client):
    response = client.post(
        "/auth/token", data='{"email\\u0000": 1}', content_type="application/json"
    )
    assert_error_format(response, 422, "validation_error")


def test_json_nested_a_thousand_deep_is_400_not_500(client):
    body = "[" * 1000 + "]" * 1000
    response = client.post("/auth/token", data=body, content_type="application/json")
    assert_error_format(response, 400, "bad_request")


def test_json_nested_past_the_limit_but_within_pythons_is_400(client):
    from agency.input_limits import MAX_JSON_DEPTH

    body = '{"email": ' + "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1) + "}"
    response = client.post("/auth/token", data=body, content_type="application/json")
    assert_error_format(response, 400, "bad_request")


def test_a_five_thousand_digit_number_is_422_not_500(client):
    body = '{"email": "a@example.org", "password": ' + "9" * 5000 + "}"
    response = client.post("/auth/token", data=body, content_type="application/json")
    assert_error_format(response, 422, "validation_error")


def test_an_infinite_or_nan_number_is_422(client):
    for number in ("1e999", "NaN", "-Infinity"):
        body = '{"email": "a@example.org", "password": ' + number + "}"
        response = client.post("/auth/token", data=body, content_type="application/json")
        assert_error_format(response, 422, "validation_error")


def test_a_body_that_is_not_utf8_is_400(client):
    response = client.post(
        "/auth/token", data=b'{"email": "\xff"}', content_type="application/json"
    )
    assert_error_format(response, 400, "bad_request")


# --- who is calling comes before what they sent ------------------------------------------------


def test_an_anonymous_bogus_body_is_401_not_422(client):
    response = client.post("/care-seekers", json={"bogus": 1})
    assert_error_format(response, 401, "unauthenticated")


def test_an_anonymous_nul_in_the_path_is_401_not_422(client):
    assert_error_format(client.get("/care-seekers/a%00b"), 401, "unauthenticated")


def test_a_principal_of_the_wrong_kind_gets_403_before_its_body_is_validated(client, session):
    headers = bearer(session, make_manager(session))
    response = client.post("/care-seekers", json={"bogus": 1}, headers=headers)
    assert_error_format(response, 403, "forbidden")


def test_a_public_operation_still_validates_an_anonymous_body(client):
    response = client.post("/providers/register", json={"bogus": 1})
    assert_error_format(response, 422, "validation_error")


def test_every_operation_that_needs_credentials_answers_an_anonymous_bogus_body_with_401(
    app, client
):
    """Over the whole document: every secured operation, with made-up path parameters."""
    import re

    spec = client.get("/openapi.json").get_json()
    checked = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters" or operation.get("security") == []:
                continue
            url = re.sub(r"\{[^}]+\}", "x", path)
            json_body = {"bogus": 1} if "requestBody" in operation else None
            response = client.open(url, method=method.upper(), json=json_body)
            assert response.status_code == 401, f"{method.upper()} {path}"
            checked += 1
    assert checked > 100
