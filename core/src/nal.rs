//! H.264 access units as cameras send them (Annex B byte streams) or as MP4 and GStreamer's
//! `avc` caps carry them (length-prefixed): their NAL units, and whether a decoder may leave
//! one out without damaging later pictures.

/// The NAL units of an Annex B access unit, without their start codes (`00 00 01`, or
/// `00 00 00 01`) and trailing zero bytes. Bytes before the first start code are not a unit.
pub fn annex_b_units(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        loop {
            let start = rest.windows(3).position(|w| w == [0, 0, 1])? + 3;
            rest = &rest[start..];
            let end = rest
                .windows(3)
                .position(|w| w == [0, 0, 1])
                .unwrap_or(rest.len());
            let mut nal = &rest[..end];
            while nal.last() == Some(&0) {
                nal = &nal[..nal.len() - 1];
            }
            rest = &rest[end..];
            if !nal.is_empty() {
                return Some(nal);
            }
        }
    })
}

/// The NAL units of a length-prefixed access unit (`avc`: each unit after its length in
/// `length_size` big-endian bytes, 1–4); a length running past the end ends the list.
pub fn length_prefixed_units(data: &[u8], length_size: usize) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    let size = length_size.clamp(1, 4);
    std::iter::from_fn(move || {
        loop {
            let (prefix, after) = rest.split_at_checked(size)?;
            let len = prefix
                .iter()
                .fold(0usize, |n, &b| (n << 8) | usize::from(b));
            let (nal, next) = after.split_at_checked(len)?;
            rest = next;
            if !nal.is_empty() {
                return Some(nal);
            }
        }
    })
}

/// Whether an H.264 access unit (Annex B) holds a picture no other picture refers to: it has
/// slices, and every one has `nal_ref_idc` 0 (ITU-T H.264 § 7.4.1). A decoder may leave such
/// a unit out and decode every later one intact. `false` for anything else, a unit without
/// slices or an unreadable one included.
pub fn h264_unit_is_droppable(data: &[u8]) -> bool {
    h264_units_are_droppable(annex_b_units(data))
}

/// [`h264_unit_is_droppable`] for the NAL units of an access unit however they were framed
/// (see [`length_prefixed_units`]).
pub fn h264_units_are_droppable<'a>(units: impl Iterator<Item = &'a [u8]>) -> bool {
    let mut slices = units
        .map(|nal| nal[0])
        .filter(|header| (1..=5).contains(&(header & 0x1f)))
        .peekable();
    slices.peek().is_some() && slices.all(|header| header & 0x60 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A NAL unit: its header byte and a payload that holds no start code (as emulation
    /// prevention guarantees) and does not end in a zero byte.
    fn nal() -> impl Strategy<Value = (u8, Vec<u8>)> {
        (
            // Forbidden bit clear; type 0 (unspecified, a zero header byte) left out.
            any::<u8>().prop_map(|b| {
                if b & 0x1f == 0 {
                    (b & 0x7f) | 1
                } else {
                    b & 0x7f
                }
            }),
            proptest::collection::vec(any::<u8>(), 0..40),
        )
            .prop_map(|(header, payload)| {
                let mut clean = Vec::with_capacity(payload.len());
                for b in payload {
                    let n = clean.len();
                    if n >= 2 && clean[n - 1] == 0 && clean[n - 2] == 0 && b <= 3 {
                        clean.push(3);
                    }
                    clean.push(b);
                }
                if clean.last() == Some(&0) {
                    clean.push(0x80);
                }
                (header, clean)
            })
    }

    proptest! {
        /// Generator: 0–8 NAL units of any header (every type, every `nal_ref_idc`), joined
        /// with 3- or 4-byte start codes. Oracle: the units read back are those put in, and
        /// the unit is droppable exactly when it has a slice and no slice is referenced.
        #[test]
        fn units_read_back_and_droppable_means_no_referenced_slice(
            units in proptest::collection::vec((nal(), any::<bool>()), 0..8),
        ) {
            let mut data = Vec::new();
            for ((header, payload), long) in &units {
                data.extend_from_slice(if *long { &[0, 0, 0, 1] } else { &[0, 0, 1] });
                data.push(*header);
                data.extend_from_slice(payload);
            }
            let mut avc = Vec::new();
            for ((header, payload), _) in &units {
                avc.extend_from_slice(&(payload.len() as u32 + 1).to_be_bytes());
                avc.push(*header);
                avc.extend_from_slice(payload);
            }
            let read: Vec<&[u8]> = annex_b_units(&data).collect();
            let read_avc: Vec<&[u8]> = length_prefixed_units(&avc, 4).collect();
            prop_assert_eq!(&read, &read_avc);
            prop_assert_eq!(read.len(), units.len());
            for (nal, ((header, payload), _)) in read.iter().zip(&units) {
                prop_assert_eq!(nal[0], *header);
                prop_assert_eq!(&nal[1..], &payload[..]);
            }
            let slices: Vec<u8> = units
                .iter()
                .map(|((h, _), _)| *h)
                .filter(|h| (1..=5).contains(&(h & 0x1f)))
                .collect();
            let expected = !slices.is_empty() && slices.iter().all(|h| (h >> 5) & 3 == 0);
            prop_assert_eq!(h264_unit_is_droppable(&data), expected);
            prop_assert_eq!(h264_units_are_droppable(length_prefixed_units(&avc, 4)), expected);
        }

        /// Any bytes at all: an answer, never a panic.
        #[test]
        fn any_bytes_are_read_without_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = h264_unit_is_droppable(&data);
            prop_assert!(annex_b_units(&data).all(|nal| !nal.is_empty()));
            for size in 0..6 {
                let total: usize = length_prefixed_units(&data, size).map(<[u8]>::len).sum();
                prop_assert!(total <= data.len());
            }
        }
    }

    #[test]
    fn a_b_frame_is_droppable_and_a_p_frame_is_not() {
        // A non-reference slice (nal_ref_idc 0, type 1) after an SEI.
        assert!(h264_unit_is_droppable(&[
            0, 0, 0, 1, 0x06, 5, 0, 0, 1, 0x01, 0x9a
        ]));
        assert!(!h264_unit_is_droppable(&[0, 0, 0, 1, 0x41, 0x9a]));
        assert!(!h264_unit_is_droppable(&[0, 0, 1, 0x65, 0x88]));
        assert!(!h264_unit_is_droppable(&[0, 0, 1, 0x67, 0x42]));
        assert!(!h264_unit_is_droppable(&[]));
    }
}
