"""Login throttling with a fake clock: slows guessing, never locks the real user out."""

import sys
import threading

import pytest

import auth.ratelimit
from auth.ratelimit import LoginThrottle


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def throttle(clock):
    return LoginThrottle(clock=clock)  # the defaults: 5 free, 1 s doubling to 300 s, 900 s


def fail(throttle, clock, client, name, times=1):
    """Fail `times` logins, each as soon as the throttle allows (as the login form does)."""
    for _ in range(times):
        clock.now += throttle.retry_after(client, name)
        assert throttle.retry_after(client, name) == 0
        throttle.failure(client, name)


def test_a_stranger_cannot_lock_the_real_user_out(throttle, clock):
    fail(throttle, clock, "10.0.0.66", "ana", times=5)
    assert throttle.retry_after("10.0.0.66", "ana") > 0
    assert throttle.retry_after("192.168.1.7", "ana") == 0  # the real user, elsewhere: at once
    # However long the stranger keeps going, the real user waits 30 s at most.
    fail(throttle, clock, "10.0.0.66", "ana", times=40)
    assert throttle.retry_after("10.0.0.66", "ana") == pytest.approx(300)
    assert 0 < throttle.retry_after("192.168.1.7", "ana") <= 30
    # Nor can many strangers, one failure each from 200 addresses.
    for number in range(200):
        fail(throttle, clock, f"172.16.0.{number}", "Ana")
        assert throttle.retry_after("192.168.1.7", "ana") <= 30


def test_the_delay_doubles_per_failure_up_to_the_cap(throttle, clock):
    for _ in range(4):
        throttle.failure("A", "ana")
        assert throttle.retry_after("A", "ana") == 0  # four free failures: no wait
    expected = [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    for delay in expected:
        throttle.failure("A", "ana")  # the 5th failure and on
        assert throttle.retry_after("A", "ana") == pytest.approx(delay)
        clock.now += delay / 2
        assert throttle.retry_after("A", "ana") == pytest.approx(delay / 2)  # counts down
        clock.now += delay / 2
        assert throttle.retry_after("A", "ana") == 0
    # The client's own delay (16 failures, past its 10 free) counts from its latest failure,
    # which has passed; one more failure, on another name, meets 2 ** (17 - 10) s.
    assert throttle.retry_after("A", "bob") == 0
    throttle.failure("A", "bob")
    assert throttle.retry_after("A", "carol") == pytest.approx(128)


def test_the_cap_holds_for_a_persistent_guesser(throttle, clock):
    start = clock.now
    fail(throttle, clock, "A", "ana", times=14)  # 5 free, then 1 s doubling to 256 s
    assert clock.now - start == pytest.approx(511)
    fail(throttle, clock, "A", "ana", times=288)  # failures never leave the count while it
    assert clock.now - start == pytest.approx(511 + 288 * 300)  # keeps going: 300 s each


def test_one_client_guessing_across_many_names_is_slowed(throttle, clock):
    delays = []
    for number in range(30):
        name = f"user{number}"
        clock.now += throttle.retry_after("A", name)
        throttle.failure("A", name)
        delays.append(throttle.retry_after("A", f"next{number}"))
    assert delays[:9] == [0] * 9  # 2 * free_failures = 10 names' worth are free
    assert delays[9:18] == pytest.approx([1, 2, 4, 8, 16, 32, 64, 128, 256])
    assert delays[18:] == pytest.approx([300] * 12)
    assert throttle.retry_after("B", "user1") == 0  # other clients are not slowed


def test_names_are_case_folded_and_clients_none_or_empty_share_one_bucket(throttle, clock):
    for name in ["Ana", "ANA", "ana", "aNa", "ANA"]:
        throttle.failure(None, name)
    assert throttle.retry_after("", "ana") == pytest.approx(1)
    assert throttle.retry_after("unknown", "Ana") == pytest.approx(1)
    assert throttle.retry_after("10.0.0.1", "ana") == 0


def test_failures_are_forgotten_after_a_quiet_window(clock):
    throttle = LoginThrottle(free_failures=3, window_seconds=60, max_delay_seconds=30,
                             clock=clock)
    throttle.failure("A", "ana")
    throttle.failure("A", "ana")
    clock.now += 59
    throttle.failure("A", "ana")
    assert throttle.retry_after("A", "ana") == pytest.approx(1)  # 3 failures, 59 s apart
    clock.now += 1 + 59.9  # the 1 s delay, then not quite the 60 s window
    throttle.failure("A", "ana")
    assert throttle.retry_after("A", "ana") == pytest.approx(2)  # the 4th failure
    clock.now += 2 + 60  # the 2 s delay, then the 60 s window: forgotten
    assert throttle.tracked_keys == 3
    throttle.failure("A", "ana")
    assert throttle.retry_after("A", "ana") == 0  # a fresh count
    throttle.failure("A", "ana")
    throttle.failure("A", "ana")
    assert throttle.retry_after("A", "ana") == pytest.approx(1)


def test_a_delay_longer_than_the_window_is_served_in_full(clock):
    throttle = LoginThrottle(free_failures=1, window_seconds=60, max_delay_seconds=600,
                             clock=clock)
    fail(throttle, clock, "A", "ana", times=12)
    assert throttle.retry_after("A", "ana") == pytest.approx(600)
    clock.now += 599
    assert throttle.retry_after("A", "ana") == pytest.approx(1)
    clock.now += 1 + 59
    throttle.failure("A", "ana")  # within the window after the delay: still counted
    assert throttle.retry_after("A", "ana") == pytest.approx(600)
    clock.now += 600 + 60
    throttle.failure("A", "ana")  # the delay, then a quiet window: forgotten
    assert throttle.retry_after("A", "ana") == pytest.approx(1)


def test_success_clears_the_pair_and_the_name_but_not_the_clients_other_names(throttle, clock):
    for number in range(8):
        throttle.failure("A", f"user{number}")
    fail(throttle, clock, "A", "ana", times=5)
    fail(throttle, clock, "B", "ana", times=15)  # the name: 20 failures, B delayed
    assert throttle.retry_after("C", "ana") > 0
    throttle.success("A", "ana")
    assert throttle.retry_after("A", "ana") == 0
    assert throttle.retry_after("C", "ana") == 0  # the name's count is cleared
    assert throttle.retry_after("B", "ana") > 0  # another client's pair is not
    # A's 8 failures on other names still count: 2 more reach its allowance of 10, and A's
    # own failures on "ana" were taken off, else this first one would be delayed.
    throttle.failure("A", "zed")
    assert throttle.retry_after("A", "other") == 0
    throttle.failure("A", "zed")
    assert throttle.retry_after("A", "other") == pytest.approx(1)


def test_success_on_an_own_account_does_not_wipe_spraying(throttle, clock):
    for number in range(12):
        clock.now += throttle.retry_after("A", f"user{number}")
        throttle.failure("A", f"user{number}")
    throttle.success("A", "mallory")
    assert throttle.retry_after("A", "user99") == pytest.approx(4)


def test_memory_stays_bounded(clock):
    throttle = LoginThrottle(clock=clock, max_tracked_keys=1000)
    for number in range(100_000):
        throttle.failure(f"10.{number % 7}.0.1", f"user{number}")
    assert throttle.tracked_keys <= 3 * 1000
    assert throttle.retry_after("10.0.0.1", "zzz") == pytest.approx(300)  # still throttled
    # Keys forgotten (their delay, at most 300 s, then the 900 s window) are dropped at the
    # next failure.
    clock.now += 300 + 900
    throttle.failure("B", "ana")
    assert throttle.tracked_keys == 3
    # A huge user name or client is kept as a short digest.
    throttle.failure("x" * 1_000_000, "y" * 1_000_000)
    sizes = [len(key) for key in throttle._names.entries] + [len(key) for key in
                                                             throttle._clients.entries]
    assert max(sizes) <= 72
    assert throttle.retry_after("x" * 1_000_000, "Y" * 1_000_000) == 0


def test_default_table_size_is_capped(clock):
    throttle = LoginThrottle(clock=clock)
    for number in range(30_000):
        throttle.failure(None, f"user{number}")
    assert throttle.tracked_keys <= 3 * throttle.max_tracked_keys == 30_000


def test_threads_count_every_failure(clock):
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to expose races
    throttle = LoginThrottle(free_failures=50, clock=clock, max_tracked_keys=64)
    errors = []

    def worker(client):
        try:
            for number in range(2000):
                throttle.failure(client, "ana")
                throttle.failure(client, f"{client}-{number}")  # churns the pruned tables
                throttle.retry_after(client, f"user{number}")
                throttle.success(client, f"{client}-{number}")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(f"c{n}",)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    assert errors == []
    assert throttle.tracked_keys <= 3 * 64
    # 16 000 failures on "ana": the name is at its 30 s cap, each client at 300 s.
    assert throttle.retry_after("elsewhere", "ana") == pytest.approx(30)
    assert throttle.retry_after("c0", "ana") == pytest.approx(300)


def test_defaults_match_the_settings(clock):
    throttle = LoginThrottle.from_config(clock=clock)
    assert (throttle.free_failures, throttle.base_delay_seconds, throttle.max_delay_seconds,
            throttle.window_seconds) == (5, 1.0, 300.0, 900.0)
    plain = LoginThrottle()
    assert (plain.free_failures, plain.max_delay_seconds, plain.window_seconds) == (5, 300, 900)


def test_a_small_maximum_also_caps_the_name(clock):
    throttle = LoginThrottle(free_failures=1, max_delay_seconds=10, clock=clock)
    fail(throttle, clock, "A", "ana", times=30)
    assert throttle.retry_after("A", "ana") == pytest.approx(10)
    assert throttle.retry_after("B", "ana") == pytest.approx(10)


def test_the_old_locking_limiter_is_gone():
    assert not hasattr(auth.ratelimit, "LoginLimiter")


@pytest.mark.parametrize("kwargs, match", [
    ({"free_failures": 0}, "'free_failures' parameter of LoginThrottle must be an int of at "
                           "least 1. Got 0"),
    ({"free_failures": 2.5}, "'free_failures'.*Got 2.5"),
    ({"free_failures": True}, "'free_failures'"),
    ({"base_delay_seconds": 0}, "'base_delay_seconds'.*greater than 0. Got 0"),
    ({"base_delay_seconds": float("nan")}, "'base_delay_seconds'"),
    ({"max_delay_seconds": 0.5}, "'max_delay_seconds'.*at least 1. Got 0.5"),
    ({"max_delay_seconds": float("inf")}, "'max_delay_seconds'"),
    ({"window_seconds": -1.0}, "'window_seconds'.*Got -1.0"),
    ({"window_seconds": "900"}, "'window_seconds'.*Got '900'"),
    ({"max_tracked_keys": 0}, "'max_tracked_keys'"),
    ({"clock": 5}, "'clock'.*Got 5"),
])
def test_invalid_parameters_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LoginThrottle(**kwargs)


@pytest.mark.parametrize("client, name, match", [(5, "ana", "client.*str or None. Got int"),
                                                 ("A", None, "user name.*str. Got NoneType"),
                                                 ("A", b"ana", "user name.*Got bytes")])
def test_invalid_logins_are_refused(throttle, client, name, match):
    for method in (throttle.retry_after, throttle.failure, throttle.success):
        with pytest.raises(TypeError, match=match):
            method(client, name)
