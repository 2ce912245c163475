//! Beyond the seed: reasons, deadlines, callbacks, guards and `never()`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use cancel_token::{CancelToken, ManualClock, Reason, WaitError};

/// A hang guard, not a speed assertion: generous enough for a loaded 2-core machine.
const HANG: Duration = Duration::from_secs(20);

#[derive(Debug)]
struct ClientGone;
impl std::fmt::Display for ClientGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("client gone")
    }
}
impl std::error::Error for ClientGone {}

// ---- reasons ---------------------------------------------------------------------------------

#[test]
fn a_plain_trigger_has_the_triggered_reason() {
    let token = CancelToken::new("t");
    assert!(token.reason().is_none());
    token.trigger();
    assert!(matches!(token.reason(), Some(Reason::Triggered)));
    assert!(matches!(
        token.check().unwrap_err().reason(),
        Reason::Triggered
    ));
}

#[test]
fn a_custom_reason_reaches_every_derived_token_and_the_error() {
    let root = CancelToken::new("root");
    let other = CancelToken::new("other");
    let child = root.child("child");
    let chained = child.chain(&other);
    root.trigger_with(ClientGone);
    for token in [&root, &child, &chained] {
        match token.reason() {
            Some(Reason::Custom(error)) => assert!(error.is::<ClientGone>()),
            other => panic!("{token:?}: unexpected reason {other:?}"),
        }
        let cancelled = token.check().unwrap_err();
        assert_eq!(cancelled.token(), &root);
        assert_eq!(cancelled.reason().to_string(), "client gone");
        // Display stays the seed's sentence whatever the reason.
        assert_eq!(
            cancelled.to_string(),
            "Cancellation requested by root token"
        );
    }
}

#[test]
fn the_first_reason_wins() {
    let token = CancelToken::new("t");
    token.trigger_with(Reason::Signal(15));
    token.trigger_with(ClientGone);
    token.trigger();
    assert!(matches!(token.reason(), Some(Reason::Signal(15))));
}

#[test]
fn a_token_born_under_a_triggered_parent_inherits_its_reason() {
    let parent = CancelToken::new("parent");
    parent.trigger_with(Reason::Signal(2));
    let child = parent.child("child");
    let any = CancelToken::any("any", [&CancelToken::new("live"), &parent]);
    assert!(matches!(child.reason(), Some(Reason::Signal(2))));
    assert!(matches!(any.reason(), Some(Reason::Signal(2))));
    assert_eq!(any.triggered_token().as_ref(), Some(&parent));
}

#[test]
fn a_deadline_reason_given_by_hand_is_a_deadline() {
    let token = CancelToken::new("t");
    token.trigger_with(Reason::DeadlineExceeded);
    assert!(token.reason().is_some_and(|reason| reason.is_deadline()));
}

// ---- deadlines on a manual clock ---------------------------------------------------------------

#[test]
fn a_deadline_token_triggers_when_the_clock_passes_it_and_not_before() {
    let clock = ManualClock::new();
    let parent = CancelToken::new("request");
    let token = clock.with_timeout(&parent, Duration::from_secs(10));
    assert_eq!(token.name(), "request");
    assert_eq!(clock.pending(), 1);
    clock.advance(Duration::from_secs(9));
    assert!(!token.triggered());
    clock.advance(Duration::from_secs(1));
    assert!(token.triggered());
    assert!(matches!(token.reason(), Some(Reason::DeadlineExceeded)));
    assert_eq!(token.triggered_token().as_ref(), Some(&token));
    assert!(!parent.triggered(), "a deadline never touches the parent");
    assert_eq!(clock.pending(), 0);
}

#[test]
fn a_deadline_reaches_derived_tokens_with_its_reason() {
    let clock = ManualClock::new();
    let deadline = clock.with_timeout(&CancelToken::new("r"), Duration::from_secs(1));
    let child = deadline.child("child");
    let chained = child.chain(&CancelToken::new("x"));
    clock.advance(Duration::from_secs(1));
    for token in [&child, &chained] {
        let cancelled = token.check().unwrap_err();
        assert_eq!(cancelled.token(), &deadline);
        assert!(cancelled.reason().is_deadline());
    }
}

#[test]
fn deadline_reports_the_earliest_across_all_ancestors() {
    let clock = ManualClock::new();
    let start = clock.now();
    let root = CancelToken::new("root");
    assert_eq!(root.deadline(), None);
    let outer = clock.with_timeout(&root, Duration::from_secs(10));
    let inner = clock.with_timeout(&outer.child("mid"), Duration::from_secs(30));
    assert_eq!(inner.deadline(), Some(start + Duration::from_secs(10)));
    let tighter = clock.with_timeout(&inner, Duration::from_secs(5));
    assert_eq!(tighter.deadline(), Some(start + Duration::from_secs(5)));
    // Through a second parent too, and through a diamond without counting anything twice.
    let other = clock.with_timeout(&root, Duration::from_secs(3));
    let joined = CancelToken::any("joined", [&inner, &other, &outer]);
    assert_eq!(joined.deadline(), Some(start + Duration::from_secs(3)));
}

#[test]
fn a_deadline_token_dropped_or_triggered_early_leaves_nothing_in_the_timer() {
    let clock = ManualClock::new();
    let parent = CancelToken::new("p");
    let dropped: Vec<_> = (0..100)
        .map(|i| clock.with_timeout(&parent, Duration::from_secs(i)))
        .collect();
    // Zero seconds is already due: triggered at once, never entered.
    assert_eq!(clock.pending(), 99);
    drop(dropped);
    assert_eq!(clock.pending(), 0);

    let triggered = clock.with_timeout(&parent, Duration::from_secs(60));
    triggered.trigger();
    assert_eq!(clock.pending(), 0);
    let by_parent = clock.with_timeout(&parent, Duration::from_secs(60));
    parent.trigger();
    assert!(by_parent.triggered());
    assert_eq!(clock.pending(), 0);
    assert!(matches!(by_parent.reason(), Some(Reason::Triggered)));
}

#[test]
fn a_deadline_on_a_triggered_parent_is_born_triggered_and_schedules_nothing() {
    let clock = ManualClock::new();
    let parent = CancelToken::new("p");
    parent.trigger();
    let token = clock.with_timeout(&parent, Duration::from_secs(5));
    assert!(token.triggered());
    assert_eq!(clock.pending(), 0);
    assert_eq!(token.triggered_token().as_ref(), Some(&parent));
}

#[test]
fn a_huge_timeout_means_no_deadline() {
    let clock = ManualClock::new();
    let token = clock.with_timeout(&CancelToken::new("p"), Duration::MAX);
    assert_eq!(token.deadline(), None);
    clock.advance(Duration::MAX);
    assert!(!token.triggered());
    let real = CancelToken::new("p").with_timeout(Duration::MAX);
    assert_eq!(real.deadline(), None);
}

#[test]
fn a_manual_deadline_wakes_an_async_waiter() {
    let clock = ManualClock::new();
    let token = clock.with_timeout(&CancelToken::new("p"), Duration::from_secs(1));
    let waiter = {
        let token = token.clone();
        thread::spawn(move || futures::executor::block_on(token.wait()))
    };
    clock.advance(Duration::from_secs(1));
    waiter.join().unwrap();
}

// ---- deadlines on the process timer ------------------------------------------------------------

#[test]
fn a_process_deadline_fires_with_nobody_polling() {
    let token = CancelToken::new("job").with_timeout(Duration::from_millis(20));
    let start = Instant::now();
    while !token.triggered() {
        assert!(start.elapsed() < HANG, "the process timer never fired");
        thread::sleep(Duration::from_millis(5));
    }
    assert!(matches!(token.reason(), Some(Reason::DeadlineExceeded)));
}

#[test]
fn many_process_deadlines_fire_in_any_order_they_were_made() {
    let root = CancelToken::new("root");
    let tokens: Vec<_> = (0..200u64)
        .rev()
        .map(|i| root.with_timeout(Duration::from_micros(i * 100)))
        .collect();
    for token in &tokens {
        assert!(token.wait_blocking_timeout(HANG), "a deadline never fired");
        assert!(token.reason().is_some_and(|reason| reason.is_deadline()));
    }
}

#[test]
fn a_past_deadline_triggers_at_once() {
    let token = CancelToken::new("late").with_deadline(Instant::now());
    assert!(token.triggered());
}

#[test]
fn cancellable_wait_timeout_tells_its_timeout_from_an_ancestors_deadline() {
    futures::executor::block_on(async {
        let token = CancelToken::new("op");
        let pending = std::future::pending::<()>();
        match token
            .cancellable_wait_timeout(pending, Duration::from_millis(10))
            .await
        {
            Err(WaitError::TimedOut { timeout }) => assert_eq!(timeout, Duration::from_millis(10)),
            other => panic!("expected a timeout, got {other:?}"),
        }

        let clock = ManualClock::new();
        let request = clock.with_timeout(&CancelToken::new("request"), Duration::from_secs(1));
        clock.advance(Duration::from_secs(1));
        match request
            .cancellable_wait_timeout(std::future::pending::<()>(), HANG)
            .await
        {
            Err(WaitError::Cancelled(cancelled)) => {
                assert_eq!(cancelled.token(), &request);
                assert!(cancelled.reason().is_deadline());
            }
            other => panic!("expected the request's deadline, got {other:?}"),
        }
    });
}

// ---- callbacks ---------------------------------------------------------------------------------

fn counter() -> (Arc<AtomicUsize>, impl Fn() -> Box<dyn FnOnce() + Send>) {
    let count = Arc::new(AtomicUsize::new(0));
    let make = {
        let count = count.clone();
        move || -> Box<dyn FnOnce() + Send> {
            let count = count.clone();
            Box::new(move || {
                count.fetch_add(1, SeqCst);
            })
        }
    };
    (count, make)
}

#[test]
fn a_callback_runs_once_when_triggered() {
    let (count, make) = counter();
    let token = CancelToken::new("t");
    let _guard = token.on_trigger(make());
    assert_eq!(count.load(SeqCst), 0);
    token.trigger();
    token.trigger();
    assert_eq!(count.load(SeqCst), 1);
}

#[test]
fn a_callback_on_a_triggered_token_runs_at_once_on_this_thread() {
    let token = CancelToken::new("t");
    token.trigger();
    let ran_on = Arc::new(Mutex::new(None));
    let slot = ran_on.clone();
    let _guard = token.on_trigger(move || *slot.lock().unwrap() = Some(thread::current().id()));
    assert_eq!(*ran_on.lock().unwrap(), Some(thread::current().id()));
}

#[test]
fn a_callback_runs_when_an_ancestor_triggers() {
    let (count, make) = counter();
    let root = CancelToken::new("root");
    let leaf = root.child("a").chain(&CancelToken::new("b")).child("leaf");
    let _guard = leaf.on_trigger(make());
    root.trigger();
    assert_eq!(count.load(SeqCst), 1);
}

#[test]
fn dropping_the_guard_unregisters_the_callback() {
    let (count, make) = counter();
    let token = CancelToken::new("t");
    for _ in 0..1000 {
        drop(token.on_trigger(make()));
    }
    let kept = token.on_trigger(make());
    token.trigger();
    assert_eq!(count.load(SeqCst), 1);
    drop(kept);
}

#[test]
fn a_detached_callback_stays_registered() {
    let (count, make) = counter();
    let token = CancelToken::new("t");
    token.on_trigger(make()).detach();
    token.trigger();
    assert_eq!(count.load(SeqCst), 1);
}

#[test]
fn callbacks_run_in_registration_order_parent_before_child() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let root = CancelToken::new("root");
    let child = root.child("child");
    let record = |label: &'static str| {
        let order = order.clone();
        move || order.lock().unwrap().push(label)
    };
    let _guards = [
        child.on_trigger(record("child-1")),
        root.on_trigger(record("root-1")),
        root.on_trigger(record("root-2")),
        child.on_trigger(record("child-2")),
    ];
    root.trigger();
    assert_eq!(
        *order.lock().unwrap(),
        ["root-1", "root-2", "child-1", "child-2"]
    );
}

#[test]
fn callbacks_see_the_whole_subtree_triggered() {
    let root = CancelToken::new("root");
    let leaf = root.child("a").child("b").child("leaf");
    let seen = Arc::new(AtomicBool::new(false));
    let (flag, observed) = (seen.clone(), leaf.clone());
    let _guard = root.on_trigger(move || flag.store(observed.triggered(), SeqCst));
    root.trigger();
    assert!(seen.load(SeqCst));
}

#[test]
fn a_panicking_callback_poisons_nothing_and_stops_no_other() {
    let (count, make) = counter();
    let token = CancelToken::new("t");
    let _first = token.on_trigger(make());
    let _panics = token.on_trigger(|| panic!("callback failure (expected by this test)"));
    let _last = token.on_trigger(make());
    token.trigger();
    assert_eq!(count.load(SeqCst), 2);
    // The token still works in every way after the panic.
    assert!(token.triggered());
    let child = token.child("after");
    assert!(child.triggered());
    futures::executor::block_on(token.wait());
    let _late = token.on_trigger(make());
    assert_eq!(count.load(SeqCst), 3);
}

#[test]
fn dropping_the_guard_waits_for_a_callback_running_on_another_thread() {
    let token = CancelToken::new("t");
    let finished = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = mpsc::channel();
    let flag = finished.clone();
    let guard = token.on_trigger(move || {
        started_tx.send(()).unwrap();
        // Long enough that the drop below certainly starts while this runs.
        thread::sleep(Duration::from_millis(200));
        flag.store(true, SeqCst);
    });
    let trigger = {
        let token = token.clone();
        thread::spawn(move || token.trigger())
    };
    started_rx.recv_timeout(HANG).expect("the callback started");
    drop(guard);
    assert!(
        finished.load(SeqCst),
        "drop returned while the callback was still running"
    );
    trigger.join().unwrap();
}

#[test]
fn a_callback_may_drop_its_own_guard() {
    let token = CancelToken::new("t");
    let slot: Arc<Mutex<Option<cancel_token::CallbackGuard>>> = Arc::new(Mutex::new(None));
    let inside = slot.clone();
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let guard = token.on_trigger(move || {
        flag.store(true, SeqCst);
        drop(inside.lock().unwrap().take());
    });
    *slot.lock().unwrap() = Some(guard);
    let trigger = {
        let token = token.clone();
        thread::spawn(move || token.trigger())
    };
    trigger.join().expect("no deadlock, no panic");
    assert!(ran.load(SeqCst));
}

#[test]
fn concurrent_registrations_and_a_trigger_run_each_callback_exactly_once() {
    for _ in 0..50 {
        let token = CancelToken::new("t");
        let (count, make) = counter();
        let barrier = Arc::new(Barrier::new(5));
        let registrars: Vec<_> = (0..4)
            .map(|_| {
                let (token, barrier) = (token.clone(), barrier.clone());
                let callbacks: Vec<_> = (0..50).map(|_| make()).collect();
                thread::spawn(move || {
                    barrier.wait();
                    callbacks
                        .into_iter()
                        .for_each(|callback| token.on_trigger(callback).detach());
                })
            })
            .collect();
        barrier.wait();
        token.trigger();
        registrars.into_iter().for_each(|r| r.join().unwrap());
        assert_eq!(count.load(SeqCst), 200);
    }
}

// ---- guards and never ----------------------------------------------------------------------------

#[test]
fn a_drop_guard_triggers_on_drop_and_on_unwind() {
    let token = CancelToken::new("t");
    let guard = token.clone().drop_guard();
    let result = thread::spawn(move || {
        let _guard = guard;
        panic!("unwinding (expected by this test)");
    })
    .join();
    assert!(result.is_err());
    assert!(token.triggered());
}

#[test]
fn never_cannot_trigger_and_costs_nothing_to_derive_from() {
    let never = CancelToken::never();
    assert_eq!(never, CancelToken::never());
    never.trigger();
    never.trigger_with(ClientGone);
    assert!(!never.triggered() && never.check().is_ok() && never.reason().is_none());
    assert!(!never.wait_blocking_timeout(Duration::from_millis(1)));

    let child = never.child("child");
    child.trigger();
    assert!(child.triggered() && !never.triggered());
    assert_eq!(child.triggered_token().as_ref(), Some(&child));

    let other = CancelToken::new("other");
    let joined = CancelToken::any("joined", [&never, &other]);
    other.trigger();
    assert_eq!(joined.triggered_token().as_ref(), Some(&other));

    // A callback on `never` is never kept, and waiting on it keeps nothing either.
    let (count, make) = counter();
    let _guard = never.on_trigger(make());
    assert_eq!(count.load(SeqCst), 0);
    let clock = ManualClock::new();
    let deadline = clock.with_timeout(&never, Duration::from_secs(1));
    clock.advance(Duration::from_secs(1));
    assert!(deadline.triggered() && !never.triggered());
}

// ---- deadline edges ------------------------------------------------------------------------------

#[test]
fn a_zero_timeout_is_born_triggered_and_reports_its_deadline() {
    let before = Instant::now();
    let token = CancelToken::new("now").with_timeout(Duration::ZERO);
    assert!(token.triggered());
    let deadline = token
        .deadline()
        .expect("a deadline that passed is still its deadline");
    assert!(deadline >= before && deadline <= Instant::now());
    let clock = ManualClock::new();
    let manual = clock.with_timeout(&CancelToken::new("m"), Duration::ZERO);
    assert!(manual.triggered());
    assert_eq!(manual.deadline(), Some(clock.now()));
}

#[test]
fn advancing_a_manual_clock_by_the_largest_duration_passes_every_deadline() {
    let clock = ManualClock::new();
    let token = clock.with_timeout(&CancelToken::new("p"), Duration::from_secs(5));
    let far = clock.with_timeout(&CancelToken::new("p"), Duration::from_secs(1 << 40));
    clock.advance(Duration::MAX);
    assert!(token.triggered() && far.triggered());
    assert!(clock.now() > far.deadline().unwrap());
    assert_eq!(clock.pending(), 0);
}

#[test]
fn no_process_deadline_fires_early() {
    // A token seen triggered at a moment read *after* the load that saw it, and still before its
    // deadline, fired early. Deadlines spread over a few ticks and several wheel slots.
    let start = Instant::now();
    let tokens: Vec<_> = (0..60u64)
        .map(|i| {
            let deadline = start + Duration::from_micros(i * 700 + 300);
            (CancelToken::new("t").with_deadline(deadline), deadline)
        })
        .collect();
    let mut left: Vec<_> = tokens.iter().collect();
    while !left.is_empty() {
        assert!(start.elapsed() < HANG, "deadlines never fired");
        left.retain(|(token, deadline)| {
            let triggered = token.triggered();
            let seen_at = Instant::now();
            assert!(
                !triggered || seen_at >= *deadline,
                "fired {:?} early",
                *deadline - seen_at
            );
            !triggered
        });
    }
}
