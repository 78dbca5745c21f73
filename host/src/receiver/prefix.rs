//! The 5-byte prefix of a gRPC message (a compressed flag, then the
//! message's length as a big-endian u32), read off the request body before
//! tonic buffers the message: a memory limiter with no room for the declared
//! length refuses it without reading the rest (the client's h2 flow-control
//! window stops it from sending much more than a window).

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};

/// What the prefix of the first message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declared {
    /// The message is compressed (its length is the compressed one).
    pub compressed: bool,
    /// Bytes of the message that follow the prefix.
    pub length: usize,
}

impl Declared {
    fn parse(head: [u8; 5]) -> Self {
        Declared {
            compressed: head[0] == 1,
            length: u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize,
        }
    }
}

/// A request body whose first frames were read to find the prefix, then
/// handed back in order, followed by the rest.
pub struct Replayed<B = Incoming> {
    read: VecDeque<Frame<Bytes>>,
    rest: B,
    ended: bool,
}

/// Reads frames of `body` until the 5-byte prefix is in (or the body ends:
/// then `None`, and tonic reports what is wrong with it). Only those frames
/// are held: one h2 DATA frame (16 KiB by default) in practice.
pub async fn peek<B>(mut body: B) -> Result<(Option<Declared>, Replayed<B>), B::Error>
where
    B: Body<Data = Bytes> + Unpin,
{
    let mut read = VecDeque::new();
    let mut head = [0u8; 5];
    let mut have = 0;
    let mut ended = false;
    while have < head.len() {
        let Some(frame) = body.frame().await.transpose()? else {
            ended = true;
            break;
        };
        if let Some(data) = frame.data_ref() {
            let mut data = data.clone();
            while have < head.len() && data.has_remaining() {
                head[have] = data.get_u8();
                have += 1;
            }
        }
        read.push_back(frame);
    }
    let declared = (have == head.len()).then(|| Declared::parse(head));
    Ok((
        declared,
        Replayed {
            read,
            rest: body,
            ended,
        },
    ))
}

impl<B> Body for Replayed<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        if let Some(frame) = self.read.pop_front() {
            return Poll::Ready(Some(Ok(frame)));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        Pin::new(&mut self.rest).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.read.is_empty() && (self.ended || self.rest.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        if self.ended {
            let n: usize = self
                .read
                .iter()
                .filter_map(|f| f.data_ref().map(Bytes::len))
                .sum();
            return SizeHint::with_exact(n as u64);
        }
        let mut hint = SizeHint::new();
        let read: u64 = self
            .read
            .iter()
            .filter_map(|f| f.data_ref().map(|d| d.len() as u64))
            .sum();
        let rest = self.rest.size_hint();
        hint.set_lower(rest.lower() + read);
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper + read);
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;
    use http_body_util::StreamBody;

    type Chunks = StreamBody<
        stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, std::convert::Infallible>>>,
    >;

    fn chunks(parts: &[&[u8]]) -> Chunks {
        let frames: Vec<_> = parts
            .iter()
            .map(|p| Ok(Frame::data(Bytes::copy_from_slice(p))))
            .collect();
        StreamBody::new(stream::iter(frames))
    }

    #[tokio::test]
    async fn reads_the_prefix_across_frames_and_replays_every_byte() {
        // 64 MiB declared, compressed; the prefix split over three frames.
        let (declared, body) = peek(chunks(&[&[1, 0x04], &[0, 0], &[0, 7, 8], &[9]]))
            .await
            .unwrap();
        assert_eq!(
            declared,
            Some(Declared {
                compressed: true,
                length: 64 * 1024 * 1024
            })
        );
        let all = body.collect().await.unwrap().to_bytes();
        assert_eq!(&all[..], &[1, 4, 0, 0, 0, 7, 8, 9]);
    }

    #[tokio::test]
    async fn reads_no_more_than_the_frames_holding_the_prefix() {
        let (declared, body) = peek(chunks(&[&[0, 0, 0, 0, 3, 1], &[2, 3]])).await.unwrap();
        assert_eq!(declared.unwrap().length, 3);
        assert_eq!(body.read.len(), 1, "only the first frame was read");
        assert_eq!(
            &body.collect().await.unwrap().to_bytes()[..],
            &[0, 0, 0, 0, 3, 1, 2, 3]
        );
    }

    #[tokio::test]
    async fn a_body_shorter_than_a_prefix_declares_nothing() {
        let (declared, body) = peek(chunks(&[&[0, 0]])).await.unwrap();
        assert_eq!(declared, None);
        assert!(!body.is_end_stream());
        assert_eq!(&body.collect().await.unwrap().to_bytes()[..], &[0, 0]);
        let (declared, body) = peek(chunks(&[])).await.unwrap();
        assert_eq!(declared, None);
        assert!(body.is_end_stream());
    }
}
