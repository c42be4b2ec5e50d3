//! Protection: primary and complementary suppression, the exact repair, the hidden-sum rule
//! and withheld rows, and the [`ProtectedTable`] they produce.

use serde::{Serialize, Serializer};

use super::grid::{Grid, Line, State, cheapest_path};
use super::{DEFAULT_MIN_N, Position, Table, TableError, audit};

/// Why a number is hidden.
///
/// Meant for the methodology note, internal screens and audits. The audit does not assume a
/// reader sees it, and public outputs should show one marker for both reasons: a `primary`
/// label by itself says the count is between 1 and k − 1 (with k = 2, that it is exactly 1),
/// and a `complementary` label says the count is at least k; together with the published
/// totals that can pin a count down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The count itself is below k (and above 0).
    Primary,
    /// Hidden to protect other hidden entries: so that no hidden count can be worked out by
    /// subtraction, and so that no line's hidden entries form a group of fewer than k
    /// respondents whose combined value could be worked out (the hidden-sum rule).
    Complementary,
    /// The whole row is withheld, total included (see [`protect_withholding_rows`]): its
    /// respondents are not split at all, and the table's other totals leave them out.
    Withheld,
}

/// A number after protection. Serializes as `{"status":"shown","n":…,"value":…}` or
/// `{"status":"suppressed","reason":"primary"|"complementary"}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Entry {
    /// Published as is.
    Shown {
        /// The exact count.
        n: u64,
        /// The exact statistic, if the input had one.
        value: Option<f64>,
    },
    /// Hidden, count and value alike.
    Suppressed {
        /// Why (not for public display, see [`Reason`]).
        reason: Reason,
    },
}

impl Entry {
    /// Whether the entry is hidden.
    #[must_use]
    pub const fn is_suppressed(&self) -> bool {
        matches!(self, Self::Suppressed { .. })
    }

    /// The published count, `None` when suppressed.
    #[must_use]
    pub const fn n(&self) -> Option<u64> {
        match self {
            Self::Shown { n, .. } => Some(*n),
            Self::Suppressed { .. } => None,
        }
    }
}

/// How complementary suppressions are chosen. Both end with the exact check and repair, so
/// both are safe against the attacker described in the module documentation; they differ in
/// how much they hide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Every line with exactly one hidden entry gets its smallest non-zero shown cell (or,
    /// failing that, its margin) as a partner, repeated until no line changes. Simple and
    /// predictable, but partners chosen for a row and for a column independently can cascade.
    #[default]
    LineGreedy,
    /// Every exposed entry gets the set of partners with the smallest total count that hides
    /// it (typically the other three corners of a rectangle). On random 12 × 12 tables with few
    /// small cells this hides about a third fewer entries than `LineGreedy`; on tables full of
    /// small cells the two do about the same.
    ShortestCycle,
}

/// The parameters of [`protect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protection {
    /// The minimum cell size k: counts `0 < n < k` are suppressed.
    pub min_n: u64,
    /// How complementary suppressions are chosen.
    pub strategy: Strategy,
    /// The hidden-sum rule (on by default, see the module documentation): in every line the
    /// hidden entries, the line's own total aside, must add up to 0 or to at least `min_n`, so
    /// that the combined value a reader can work out for them (from the margin's value and the
    /// shown cells' values) is never a small group's. Turn it off only for tables whose values
    /// are not published, or whose margins' values are published nowhere.
    pub hidden_sum_min: bool,
}

impl Protection {
    /// Protection with minimum cell size `min_n`, the default strategy and the hidden-sum rule.
    #[must_use]
    pub fn new(min_n: u64) -> Self {
        Self {
            min_n,
            strategy: Strategy::default(),
            hidden_sum_min: true,
        }
    }
}

impl Default for Protection {
    fn default() -> Self {
        Self::new(DEFAULT_MIN_N)
    }
}

/// A table after protection: the input's shape, every published number shown exactly or
/// suppressed. Serializes as
/// `{"min_n":…,"cells":[[Entry…]…],"row_totals":[Entry…]|null,"column_totals":…,"grand_total":Entry|null}`
/// (a margin that was not published is `null`). The true counts of suppressed entries are kept
/// for [`audit`] and are never serialized.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtectedTable {
    pub(super) min_n: u64,
    pub(super) grid: Grid,
    /// For every published row, its row in `grid`, or `None` when the row is withheld whole.
    pub(super) layout: Vec<Option<usize>>,
}

impl ProtectedTable {
    /// The protected grid, every row published.
    pub(super) fn of(min_n: u64, grid: Grid) -> Self {
        Self {
            min_n,
            layout: (0..grid.rows).map(Some).collect(),
            grid,
        }
    }

    /// The minimum cell size the table was protected with.
    #[must_use]
    pub const fn min_n(&self) -> u64 {
        self.min_n
    }

    /// The number of rows, withheld ones included.
    #[must_use]
    pub const fn rows(&self) -> usize {
        self.layout.len()
    }

    /// The number of columns.
    #[must_use]
    pub const fn columns(&self) -> usize {
        self.grid.columns
    }

    /// The rows withheld whole (see [`protect_withholding_rows`]), in order.
    #[must_use]
    pub fn withheld_rows(&self) -> Vec<usize> {
        self.layout
            .iter()
            .enumerate()
            .filter_map(|(row, inner)| inner.is_none().then_some(row))
            .collect()
    }

    /// The row of the grid behind a published row; `Err(())` when it is withheld, `Ok(None)`
    /// when it does not exist.
    fn inner_row(&self, row: usize) -> Result<Option<usize>, ()> {
        match self.layout.get(row) {
            Some(Some(inner)) => Ok(Some(*inner)),
            Some(None) => Err(()),
            None => Ok(None),
        }
    }

    /// A grid position as published: rows renumbered to the full table's.
    pub(super) fn outer(&self, position: Position) -> Position {
        let outer_row = |inner: usize| {
            self.layout
                .iter()
                .position(|r| *r == Some(inner))
                .unwrap_or(inner)
        };
        match position {
            Position::Cell { row, column } => Position::Cell {
                row: outer_row(row),
                column,
            },
            Position::RowTotal { row } => Position::RowTotal {
                row: outer_row(row),
            },
            Position::ColumnTotal { .. } | Position::GrandTotal => position,
        }
    }

    /// The entry at `position`; `None` when it is outside the table or an unpublished margin.
    #[must_use]
    pub fn entry(&self, position: Position) -> Option<Entry> {
        let withheld = Entry::Suppressed {
            reason: Reason::Withheld,
        };
        let position = match position {
            Position::Cell { row, column } => match self.inner_row(row) {
                Err(()) if column < self.columns() => return Some(withheld),
                Err(()) | Ok(None) => return None,
                Ok(Some(row)) => Position::Cell { row, column },
            },
            Position::RowTotal { row } => match self.inner_row(row) {
                Err(()) if self.grid.row_totals_published => return Some(withheld),
                Err(()) | Ok(None) => return None,
                Ok(Some(row)) => Position::RowTotal { row },
            },
            Position::ColumnTotal { .. } | Position::GrandTotal => position,
        };
        let slot = self.grid.slot(self.grid.index_of(position)?)?;
        match slot.state {
            State::Unpublished => None,
            State::Shown => Some(Entry::Shown {
                n: slot.n,
                value: slot.value,
            }),
            State::Suppressed(reason) => Some(Entry::Suppressed { reason }),
        }
    }

    /// The inner cell at `row`, `column`.
    #[must_use]
    pub fn cell(&self, row: usize, column: usize) -> Option<Entry> {
        self.entry(Position::Cell { row, column })
    }

    /// The total of `row`, when row totals are published.
    #[must_use]
    pub fn row_total(&self, row: usize) -> Option<Entry> {
        self.entry(Position::RowTotal { row })
    }

    /// The total of `column`, when column totals are published.
    #[must_use]
    pub fn column_total(&self, column: usize) -> Option<Entry> {
        self.entry(Position::ColumnTotal { column })
    }

    /// The grand total, when published.
    #[must_use]
    pub fn grand_total(&self) -> Option<Entry> {
        self.entry(Position::GrandTotal)
    }

    /// All inner cells, one `Vec` per row.
    #[must_use]
    pub fn cells(&self) -> Vec<Vec<Entry>> {
        (0..self.rows())
            .map(|row| {
                (0..self.columns())
                    .filter_map(|column| self.cell(row, column))
                    .collect()
            })
            .collect()
    }

    /// The row totals, when published.
    #[must_use]
    pub fn row_totals(&self) -> Option<Vec<Entry>> {
        self.grid.row_totals_published.then(|| {
            (0..self.rows())
                .filter_map(|row| self.row_total(row))
                .collect()
        })
    }

    /// The column totals, when published.
    #[must_use]
    pub fn column_totals(&self) -> Option<Vec<Entry>> {
        self.grid.column_totals_published.then(|| {
            (0..self.columns())
                .filter_map(|column| self.column_total(column))
                .collect()
        })
    }

    /// Every suppressed entry, in reading order (cells row by row with each row's total, then
    /// the column totals and the grand total).
    #[must_use]
    pub fn suppressed(&self) -> Vec<(Position, Reason)> {
        let mut out: Vec<(Position, Reason)> = self
            .grid
            .slots
            .iter()
            .enumerate()
            .filter_map(|(idx, slot)| match slot.state {
                State::Suppressed(reason) => Some((self.outer(self.grid.position(idx)), reason)),
                State::Shown | State::Unpublished => None,
            })
            .collect();
        for row in self.withheld_rows() {
            out.extend(
                (0..self.columns())
                    .map(|column| (Position::Cell { row, column }, Reason::Withheld)),
            );
            if self.grid.row_totals_published {
                out.push((Position::RowTotal { row }, Reason::Withheld));
            }
        }
        out.sort_by_key(|(position, _)| reading_order(*position));
        out
    }
}

/// Sort key of a position in reading order: rows (each with its total), then the column
/// totals, then the grand total.
const fn reading_order(position: Position) -> (usize, usize) {
    match position {
        Position::Cell { row, column } => (row, column),
        Position::RowTotal { row } => (row, usize::MAX),
        Position::ColumnTotal { column } => (usize::MAX, column),
        Position::GrandTotal => (usize::MAX, usize::MAX),
    }
}

impl Serialize for ProtectedTable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View {
            min_n: u64,
            cells: Vec<Vec<Entry>>,
            row_totals: Option<Vec<Entry>>,
            column_totals: Option<Vec<Entry>>,
            grand_total: Option<Entry>,
        }
        View {
            min_n: self.min_n,
            cells: self.cells(),
            row_totals: self.row_totals(),
            column_totals: self.column_totals(),
            grand_total: self.grand_total(),
        }
        .serialize(serializer)
    }
}

/// Protects a breakdown: primary suppression of counts `0 < n < k`, complementary suppression
/// by `protection.strategy` and the exact check and repair, alternating with the hidden-sum
/// rule when `protection.hidden_sum_min` is set until nothing changes (see the module
/// documentation). Shown entries keep their exact count and value; zeros are always shown.
#[must_use]
pub fn protect(table: &Table, protection: Protection) -> ProtectedTable {
    let mut grid = Grid::from_table(table);
    grid.suppress_primary(protection.min_n);
    // The hidden-sum rule comes after the repair: the repair's cycles usually give a small cell
    // partners that satisfy the rule too. Every round but the last suppresses at least one more
    // entry, so there are at most one more rounds than entries; the bound is only a guard. The
    // last round ends with a repair after which the rule found nothing to add, so its output
    // passes the exact check and the rule at once.
    for _ in 0..=grid.slots.len() {
        if protection.strategy == Strategy::LineGreedy {
            grid.complete_lines();
        }
        grid.repair_until_safe();
        if !protection.hidden_sum_min || !grid.widen_small_hidden_sums(protection.min_n) {
            break;
        }
    }
    ProtectedTable::of(protection.min_n, grid)
}

/// Protects a table of which whole rows may be withheld: [`protect`] on the rows not
/// `withheld`, then, as long as the audit recovers a hidden count (which only entries known
/// elsewhere can cause, since they may not be suppressed), withholds every row that count
/// belongs to and protects the rest again. A withheld row is published as hidden, total
/// included, and is left out of every other total.
///
/// `table_of` builds the table of the rows kept, in order (their cells, their margins, and
/// which entries are known elsewhere); it is called again whenever rows are withheld, since
/// the column totals and the grand total change with them. Each call withholds at least one
/// more row, so this ends; the result has no finding in [`audit`].
///
/// Withhold a row up front when its total is published elsewhere and is below k: its hidden
/// cells would add up to a group of fewer than k respondents whose size and combined value
/// the reader knows, and when all of them fall into one category the zeros beside it say
/// which.
///
/// # Errors
/// Whatever `table_of` returns, and [`TableError::RowCount`] when its table does not have one
/// row per kept row.
pub fn protect_withholding_rows(
    withheld: &[bool],
    protection: Protection,
    mut table_of: impl FnMut(&[usize]) -> Result<Table, TableError>,
) -> Result<ProtectedTable, TableError> {
    let mut withheld = withheld.to_vec();
    loop {
        let kept: Vec<usize> = (0..withheld.len())
            .filter(|&row| !withheld.get(row).copied().unwrap_or(false))
            .collect();
        let table = table_of(&kept)?;
        if table.rows() != kept.len() {
            return Err(TableError::RowCount {
                expected: kept.len(),
                found: table.rows(),
            });
        }
        let mut protected = protect(&table, protection);
        protected.layout = withheld
            .iter()
            .scan(0_usize, |next, &w| {
                Some(if w {
                    None
                } else {
                    *next += 1;
                    Some(*next - 1)
                })
            })
            .collect();
        let findings = audit(&protected).findings;
        if findings.is_empty() {
            return Ok(protected);
        }
        // The rows whose hidden counts a reader recovers; a recovered column total or grand
        // total comes from every row with respondents in it.
        let mut more = false;
        for finding in &findings {
            let rows: Vec<usize> = match finding.position {
                Position::Cell { row, .. } | Position::RowTotal { row } => vec![row],
                Position::ColumnTotal { column } => kept
                    .iter()
                    .enumerate()
                    .filter(|&(inner, _)| table.cell(inner, column).is_some_and(|c| c.n > 0))
                    .map(|(_, &row)| row)
                    .collect(),
                Position::GrandTotal => kept.clone(),
            };
            for row in rows {
                if let Some(flag) = withheld.get_mut(row) {
                    more |= !*flag;
                    *flag = true;
                }
            }
        }
        if !more {
            // Nothing left to withhold: cannot happen (a finding lies in a kept row or in a
            // total of kept rows), but never publish a table that fails the audit.
            withheld.iter_mut().for_each(|w| *w = true);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The protection steps on the grid.

impl Grid {
    pub(super) fn suppress_primary(&mut self, min_n: u64) {
        for slot in &mut self.slots {
            if slot.state == State::Shown && !slot.known && slot.n > 0 && slot.n < min_n {
                slot.state = State::Suppressed(Reason::Primary);
            }
        }
    }

    /// The line rule of [`Strategy::LineGreedy`], to a fixpoint. Ends because every pass that
    /// does not stop suppresses at least one more entry.
    fn complete_lines(&mut self) {
        let lines = self.lines();
        loop {
            let mut changed = false;
            for line in &lines {
                let mut hidden = line.entries().filter(|&idx| self.is_hidden(idx));
                let (Some(only), None) = (hidden.next(), hidden.next()) else {
                    continue;
                };
                if !matches!(self.state(only), Some(State::Suppressed(_))) {
                    continue;
                }
                if let Some(partner) = self.partner(line) {
                    self.suppress(partner, Reason::Complementary);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// The entry to suppress next in a line: its smallest non-zero shown inner entry (the first
    /// on ties), or its margin when there is none.
    fn partner(&self, line: &Line) -> Option<usize> {
        self.smallest_candidate(line.members.iter().copied())
            .or_else(|| self.smallest_candidate(std::iter::once(line.total)))
    }

    /// The combined count of a line's hidden inner entries (its total aside), saturating.
    fn hidden_sum(&self, line: &Line) -> u64 {
        line.members
            .iter()
            .filter(|&&idx| self.is_hidden(idx))
            .filter_map(|&idx| self.slot(idx))
            .fold(0, |acc, slot| acc.saturating_add(slot.n))
    }

    /// Whether a line's hidden inner entries add up to a small group, `0 < sum < min_n`.
    fn hides_small_group(&self, line: &Line, min_n: u64) -> bool {
        let sum = self.hidden_sum(line);
        sum > 0 && sum < min_n
    }

    /// One pass of the hidden-sum rule: every line whose hidden entries add up to a small group
    /// gets partners suppressed until they do not, or until it has none left to give (then its
    /// hidden entries are all its non-zero ones and its total is already hidden, so the margin
    /// fallback of [`Grid::partner`] never fires here). Returns whether anything was
    /// suppressed; new suppressions can make other lines small, so the caller repeats.
    fn widen_small_hidden_sums(&mut self, min_n: u64) -> bool {
        let mut changed = false;
        for line in &self.lines() {
            while self.hides_small_group(line, min_n) {
                let Some(partner) = self.partner(line) else {
                    break;
                };
                self.suppress(partner, Reason::Complementary);
                changed = true;
            }
        }
        changed
    }

    /// The shown non-zero entry with the smallest count; the first one on ties.
    fn smallest_candidate(&self, entries: impl Iterator<Item = usize>) -> Option<usize> {
        entries
            .filter(|&idx| self.is_candidate(idx))
            .min_by_key(|&idx| self.slot(idx).map_or(u64::MAX, |slot| slot.n))
    }

    /// Repairs, one at a time, every suppressed entry the exact test still pins down. Each
    /// repair suppresses at least one more entry, so this ends; the bound on rounds is only
    /// a guard. An entry no repair can free (only possible when entries known elsewhere block
    /// every cycle through it) is skipped, so the others are still repaired; [`audit`] reports
    /// it.
    pub(super) fn repair_until_safe(&mut self) {
        for _ in 0..=self.slots.len() {
            let pinned = self.pinned();
            let mut pinned = pinned
                .iter()
                .enumerate()
                .filter_map(|(idx, &p)| p.then_some(idx));
            if !pinned.any(|idx| self.repair(idx)) {
                return;
            }
        }
    }

    /// Suppresses the cheapest set of shown entries that puts `idx` on a feasible cycle.
    /// Such a set always exists: the entry's row total, column total and the grand total
    /// (with, for a margin, one non-zero cell of its line) close a cycle on which every count
    /// only grows. Returns whether anything was suppressed.
    fn repair(&mut self, idx: usize) -> bool {
        let Some(slot) = self.slot(idx).copied() else {
            return false;
        };
        let arcs = self.arcs(true);
        let best = self
            .moves(idx, slot.n, 1)
            .filter_map(|(from, to)| cheapest_path(&arcs, to, from, idx))
            .min_by_key(|(cost, _)| *cost);
        let Some((_, path)) = best else {
            return false;
        };
        let mut changed = false;
        for step in path {
            if self.state(step) == Some(State::Shown) {
                self.suppress(step, Reason::Complementary);
                changed = true;
            }
        }
        changed
    }
}
