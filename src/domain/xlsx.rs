//! Safety checks shared by every reader of uploaded XLSX workbooks (XLSForm questionnaires,
//! respondent lists): an XLSX file is a zip archive, and a small archive can unpack to
//! gigabytes.

/// Sum of the uncompressed sizes in a zip's central directory, if it can be read.
pub fn zip_unpacked_size(bytes: &[u8]) -> Option<u64> {
    let u16_at = |at: usize| -> Option<u64> {
        let b: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(u64::from(u16::from_le_bytes(b)))
    };
    let u32_at = |at: usize| -> Option<u64> {
        let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(u64::from(u32::from_le_bytes(b)))
    };
    // The end-of-central-directory record lies in the last 22 + 65,535 bytes.
    let search_from = bytes.len().saturating_sub(22 + 65_535);
    let eocd = (search_from..bytes.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(i) == Some(0x0605_4b50))?;
    let entries = u16_at(eocd + 10)?;
    let mut at = usize::try_from(u32_at(eocd + 16)?).ok()?;
    let mut total: u64 = 0;
    for _ in 0..entries {
        if u32_at(at)? != 0x0201_4b50 {
            return None;
        }
        let size = u32_at(at.checked_add(24)?)?;
        // Zip64 marker: the real size is elsewhere; treat it as too large to trust.
        if size == 0xFFFF_FFFF {
            return Some(u64::MAX);
        }
        total = total.saturating_add(size);
        let name = usize::try_from(u16_at(at.checked_add(28)?)?).ok()?;
        let extra = usize::try_from(u16_at(at.checked_add(30)?)?).ok()?;
        let comment = usize::try_from(u16_at(at.checked_add(32)?)?).ok()?;
        at = at.checked_add(46 + name + extra + comment)?;
    }
    Some(total)
}
