//! `pull_mem_1m_over_100k`: the server's peak memory (VmHWM) while one client pulls a small and
//! a ten times larger data set, each through a fresh `sync-server` process with the default byte
//! budget of a page, given explicitly and printed beside them. Pages are bounded, so the peak
//! should not grow with the data (1.0 is flat).

use std::path::Path;

use sync_runtime::engine::DEFAULT_MAX_PAGE_BYTES;

use crate::fixture::{Error, Fixture, Server};
use crate::pull::{check, pull_all};
use crate::{Sizes, figure};

pub async fn run(fixture: &Fixture, server: &Path, sizes: &Sizes) -> Result<(), Error> {
    let (small, large) = sizes.memory_rows;
    let budget = DEFAULT_MAX_PAGE_BYTES.to_string();
    let mut peaks = Vec::new();
    for (n, rows) in [(3, small), (4, large)] {
        let user = fixture.user(n).await?;
        fixture.seed_records(&user, rows).await?;
        let child =
            Server::start_with(server, &fixture.url, &["--max-page-bytes", &budget]).await?;
        let pulled = pull_all(fixture, &child.base, &user).await?;
        check(fixture, pulled, rows + 2).await?;
        peaks.push(child.peak_kib()?);
        drop(child);
    }
    figure("pull_mem_page_budget_mib", DEFAULT_MAX_PAGE_BYTES as f64 / (1024.0 * 1024.0));
    figure("pull_mem_small_rows", small as f64);
    figure("pull_mem_small_mib", peaks[0] as f64 / 1024.0);
    figure("pull_mem_large_rows", large as f64);
    figure("pull_mem_large_mib", peaks[1] as f64 / 1024.0);
    figure("pull_mem_1m_over_100k", peaks[1] as f64 / peaks[0] as f64);
    Ok(())
}
