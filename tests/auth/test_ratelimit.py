"""Login lockout with a fake clock."""

import pytest

from auth.ratelimit import LoginLimiter


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


def test_locks_after_max_failures_and_unlocks_after_the_lockout(clock):
    limiter = LoginLimiter(max_failures=3, lockout_seconds=60, clock=clock)
    for _ in range(2):
        limiter.failure("alice")
        assert limiter.allowed("alice") and limiter.retry_after("alice") == 0
    limiter.failure("Alice")  # names count lower-cased: the third failure
    assert not limiter.allowed("alice")
    assert limiter.retry_after("ALICE") == pytest.approx(60)
    assert limiter.allowed("bob")  # per name
    clock.now += 59.5
    assert not limiter.allowed("alice")
    assert limiter.retry_after("alice") == pytest.approx(0.5)
    clock.now += 0.5  # the lockout is exactly 60 s
    assert limiter.allowed("alice") and limiter.retry_after("alice") == 0
    limiter.failure("alice")  # a fresh count after the lock
    assert limiter.allowed("alice")


def test_failures_older_than_the_window_do_not_count(clock):
    limiter = LoginLimiter(max_failures=3, lockout_seconds=60, clock=clock)
    limiter.failure("alice")
    limiter.failure("alice")
    clock.now += 61
    limiter.failure("alice")
    assert limiter.allowed("alice")


def test_failures_while_locked_do_not_extend_the_lock(clock):
    limiter = LoginLimiter(max_failures=2, lockout_seconds=60, clock=clock)
    limiter.failure("alice")
    limiter.failure("alice")
    clock.now += 30
    limiter.failure("alice")
    assert limiter.retry_after("alice") == pytest.approx(30)


def test_success_resets_the_count(clock):
    limiter = LoginLimiter(max_failures=3, lockout_seconds=60, clock=clock)
    limiter.failure("alice")
    limiter.failure("alice")
    limiter.success("alice")
    limiter.failure("alice")
    limiter.failure("alice")
    assert limiter.allowed("alice")
    limiter.failure("alice")
    assert not limiter.allowed("alice")


def test_defaults_match_the_settings():
    limiter = LoginLimiter.from_config()
    assert (limiter.max_failures, limiter.lockout_seconds) == (5, 300.0)
    assert (LoginLimiter().max_failures, LoginLimiter().lockout_seconds) == (5, 300.0)


@pytest.mark.parametrize("kwargs, match", [({"max_failures": 0}, "'max_failures'"),
                                           ({"max_failures": 2.5}, "'max_failures'"),
                                           ({"lockout_seconds": 0}, "'lockout_seconds'"),
                                           ({"lockout_seconds": -1.0}, "'lockout_seconds'")])
def test_invalid_parameters_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LoginLimiter(**kwargs)
