"""What the Schemathesis runs share: the checks, a fixed seed, bounded examples, one loop.

fuzz() runs every operation of a schema in both generation modes and returns one line per
operation that failed, so a single test reports all of them at once.
"""

import pytest
import schemathesis
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

SEED = 20200121
# DRF's codes for a value of the wrong shape: what a schema documents (type, format, pattern,
# range, length, enum, required). A schema-valid value refused with one of them is a mismatch.
# A refusal by a rule the schema cannot state carries the rule's own code (period_in_future,
# invalid_filter, does_not_exist, as_of_out_of_range ...) and is the API working as documented.
SHAPE_CODES = {
    "parse_error",
    "invalid",
    "required",
    "null",
    "blank",
    "empty",
    "max_length",
    "min_length",
    "max_value",
    "min_value",
    "max_string_length",
    "max_digits",
    "max_decimal_places",
    "max_whole_digits",
    "invalid_choice",
    "not_a_list",
    "not_a_dict",
    "incorrect_type",
    "date",
    "datetime",
    "null_characters_not_allowed",
    "surrogate_characters_not_allowed",
    "unsupported_media_type",
}


@schemathesis.check
def valid_input_is_not_refused_for_its_shape(ctx, response, case):
    """A schema-valid request is never refused as malformed (400 with a shape code): otherwise
    the schema promises a value the serializer refuses, and clients built from it break."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code != 400:
        return None
    body = response.json()
    codes = {e["code"] for errors in body.get("errors", {}).values() for e in errors}
    shape = (codes or {body["code"]}) & SHAPE_CODES
    assert not shape, f"schema-valid input refused with {sorted(shape)}: {response.text[:500]}"
    return None


CONFORMANCE = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    valid_input_is_not_refused_for_its_shape,
]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@pytest.fixture
def quick_passwords(settings):
    """The token endpoint hashes every password it is sent: a fast hasher keeps a run short.
    Use it before the personas are created, so that their passwords use it too."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def fuzz_config(max_examples: int) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {"seed": SEED, "generation": {"max-examples": max_examples, "deterministic": True}}
    )


def hypothesis_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        report_multiple_bugs=False,
    )


def resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def _aiming_at(ids, strategy):
    """Cases whose {id} is, most of the time, one of ids: a random integer rarely names a row."""

    def aim(pair):
        case, pk = pair
        if pk is not None and "id" in (case.path_parameters or {}):
            case.path_parameters["id"] = pk
        return case

    return st.tuples(strategy, st.sampled_from([*ids, None])).map(aim)


def strategy_for(operation, mode, ids=()):
    strategy = operation.as_strategy(generation_mode=mode)
    if ids and mode is GenerationMode.POSITIVE:
        strategy = _aiming_at(ids, strategy)
    return strategy


def fuzz(
    schema, check, headers=lambda: None, *, max_examples: int, ids=(), tally=None
) -> list[str]:
    """Run every operation in both generation modes; what failed, one line per operation.

    A generated path that matches no URL (a negative or non-numeric id) must answer 404; that its
    body is JSON is checked once, by test_an_api_url_that_matches_no_route_answers_json_404.
    ids: in the positive mode, the {id} of a path is mostly one of them (rows that exist).
    tally, a dict, counts the answers per (operation label, status).
    """
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in MODES:

            @hypothesis_settings(max_examples)
            @given(case=strategy_for(operation, mode, ids))
            def run(case):
                sent = headers()
                response = case.call(headers=sent)
                if tally is not None:
                    key = (case.operation.label, response.status_code)
                    tally[key] = tally.get(key, 0) + 1
                if not resolves(case.formatted_path):
                    assert response.status_code == 404, response.text
                    return
                case.validate_response(response, checks=CONFORMANCE, headers=sent)
                check(case, response)

            try:
                run()
            except Unsatisfiable:
                pass  # e.g. no way to make a parameterless operation's input invalid
            except (Exception, BaseExceptionGroup) as exc:  # one run reports every operation
                failures.append(f"{operation.label} [{mode.value}]: {exc}"[:3000])
    return failures
