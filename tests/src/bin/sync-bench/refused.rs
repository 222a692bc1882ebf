//! `push_1pct_refused_vs_clean`: a push of which 1% of the changes break a unique key (a
//! repertoire name taken twice in the batch), against the same push with every change valid.
//! Per-change verdicts must not make a device with a few bad changes pay much more than one
//! without: the clean push's time over the refused one's stays at 0.5 or more.

use serde_json::{Value, json};

use crate::fixture::{Error, Fixture, Paired, User, request};
use crate::{Sizes, figure, figure_spread};

/// One change in this many breaks the unique key.
const REFUSED_EVERY: usize = 100;

pub async fn run(fixture: &Fixture, sizes: &Sizes) -> Result<(), Error> {
    // Users 1 to 7 are the other figures'.
    let user = fixture.user(8).await?;
    let rows = sizes.push_rows;
    let clean = request(None, 1, repertoires(&user, rows, false));
    let refused = request(None, 1, repertoires(&user, rows, true));
    // The refused push must refuse exactly its 1%, and write the rest.
    clear(fixture, &user).await?;
    let answer: Value = serde_json::from_slice(&fixture.sync(&user, refused.clone()).await?)?;
    let rejected = answer["rejected"].as_array().map_or(0, Vec::len);
    if rejected != rows / REFUSED_EVERY {
        let expected = rows / REFUSED_EVERY;
        return Err(format!("the 1% push had {rejected} rejections, expected {expected}").into());
    }
    let paired = Paired::measure(
        sizes.repetitions,
        async || clear(fixture, &user).await,
        async || fixture.sync(&user, refused.clone()).await.map(drop),
        async || fixture.sync(&user, clean.clone()).await.map(drop),
    )
    .await?;
    let (refused_ms, clean_ms) = paired.median_ms();
    figure("push_1pct_refused_ms", refused_ms);
    figure("push_clean_ms", clean_ms);
    figure_spread("push_1pct_refused_vs_clean", &paired.ratios());
    clear(fixture, &user).await
}

/// Remove the repertoires of `user` and every tombstone.
async fn clear(fixture: &Fixture, user: &User) -> Result<(), Error> {
    let id = &user.id;
    let sql = format!("DELETE FROM repertoire WHERE user_id = '{id}'; DELETE FROM _sync_tombstone");
    fixture.sql.batch_execute(&sql).await?;
    Ok(())
}

/// `rows` new repertoires of `user`, named apart; with `refused`, every hundredth takes the name
/// of the one before it, which the live-only unique key (user_id, name) refuses.
fn repertoires(user: &User, rows: usize, refused: bool) -> Vec<Value> {
    (0..rows)
        .map(|i| {
            let taken = refused && i % REFUSED_EVERY == REFUSED_EVERY - 1;
            let name = if taken { i - 1 } else { i };
            let row = json!({
                "id": format!("00000000-0000-4000-b000-{:012}", i + 1),
                "user_id": user.id,
                "name": format!("list {name}"),
                "deleted": false,
                "last_modified_at": "2026-11-24T10:00:00.000Z",
            });
            json!({ "table": "repertoire", "op": "upsert", "row": row })
        })
        .collect()
}
