//! The server side of `GET /api/events`: one user's pokes out of the store's pokes of everyone.

use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;

use super::{Poke, PokeEvent};

/// The pokes of one user, out of the store's pokes of every user.
#[derive(Debug)]
pub struct UserPokes {
    user: String,
    pokes: Receiver<Poke>,
}

impl UserPokes {
    /// The pokes of `user` (as the engine spells users) among `pokes`.
    pub fn new(user: String, pokes: Receiver<Poke>) -> Self {
        UserPokes { user, pokes }
    }

    /// The next poke of the user; `None` once the store is gone. When pokes were missed because
    /// this subscriber fell behind, one poke of unknown origin stands for them all.
    pub async fn next(&mut self) -> Option<PokeEvent> {
        loop {
            match self.pokes.recv().await {
                Ok(poke) if poke.user == self.user => {
                    return Some(PokeEvent { client_id: Some(poke.client_id) });
                }
                Ok(_) => {}
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(user = %self.user, missed, "an event stream fell behind");
                    return Some(PokeEvent { client_id: None });
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::broadcast;
    use uuid::Uuid;

    use super::*;

    fn poke(user: &str, n: u128) -> Poke {
        Poke { user: user.to_owned(), client_id: Uuid::from_u128(n) }
    }

    #[tokio::test]
    async fn only_the_users_pokes_and_one_for_a_lag() {
        let (sender, receiver) = broadcast::channel(2);
        let mut pokes = UserPokes::new("u".into(), receiver);
        sender.send(poke("v", 1)).unwrap();
        sender.send(poke("u", 2)).unwrap();
        assert_eq!(pokes.next().await, Some(PokeEvent { client_id: Some(Uuid::from_u128(2)) }));
        // Five pokes into a channel of two: the subscriber fell behind.
        for n in 3..8 {
            sender.send(poke("v", n)).unwrap();
        }
        assert_eq!(pokes.next().await, Some(PokeEvent { client_id: None }));
        drop(sender);
        assert_eq!(pokes.next().await, None);
    }
}
