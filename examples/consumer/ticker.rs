//! The default mode, with no server: the article's `async_time_ticker`, iterated through the
//! cancellable stream, so Ctrl-C ends it between two ticks.

use std::pin::pin;
use std::time::{Duration, SystemTime};

use cancel_token::{CancelToken, StreamCancelExt};
use futures::{Stream, StreamExt};

/// The article's `async_time_ticker(delay)`: sleeps, then yields the time, forever.
fn time_ticker(delay: Duration) -> impl Stream<Item = SystemTime> {
    futures::stream::unfold((), move |()| async move {
        tokio::time::sleep(delay).await;
        Some((SystemTime::now(), ()))
    })
}

/// `async for now in cancellable_aiter(ticker, event): print(f'now: {now}')`.
pub async fn run(token: &CancelToken) {
    let mut ticks = pin!(time_ticker(Duration::from_secs(1)).cancellable(token));
    while let Some(now) = ticks.next().await {
        println!("now: {}", humantime::format_rfc3339_micros(now));
    }
}
