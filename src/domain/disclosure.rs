//! Statistical disclosure control for survey breakdowns: respondents are promised anonymity, so
//! no published number may let a reader work out what a handful of them (fewer than the
//! methodology's `disclosure_min_n`, "k") answered — neither directly nor by subtraction.
//!
//! Aggregates at "unit × respondent group" level (a province's leader score) are always
//! published and do not go through here. Any finer breakdown — by the answer to another
//! question, by a sub-category — is built as a [`Table`] and passed to [`protect`], which returns
//! a [`ProtectedTable`] of the same shape in which every number is either
//! [`Entry::Shown`] or [`Entry::Suppressed`]. [`audit`] and [`derivable_cells`] check the result
//! the way an attacker would.
//!
//! # The table model
//!
//! A table has `rows × columns` inner cells and, optionally published, row totals, column totals
//! and a grand total. A one-dimensional breakdown (categories plus a total) is a `1 × C` table
//! with one published row total ([`Table::one_dimensional`]). Published totals must be exactly
//! the sums of their cells; a breakdown whose categories do not cover every respondent of the
//! total (skipped questions) must carry an explicit "no answer" category, since otherwise the
//! gap would be an unprotected hidden cell.
//!
//! Internally the table is an `(rows + 1) × (columns + 1)` grid whose last row and column hold
//! the margins. Every grid row and grid column is a *line*: its inner entries sum to its margin
//! entry. An unpublished margin is simply an entry nobody sees, so the same arithmetic covers
//! tables with all, some or none of their margins published.
//!
//! # The policy
//!
//! * **Primary suppression.** A published count `n` with `0 < n < k` is suppressed, whether it is
//!   an inner cell or a margin. With `k ≤ 1` nothing is primary.
//! * **Zeros are shown.** A count of 0 is always published as 0 and is never suppressed, not even
//!   as a complementary cell: a structural zero says nothing about any individual, and a
//!   suppressed zero could be revealed anyway. The price is that a reader knows every suppressed
//!   count is at least 1, and the auditor assumes that they do (two suppressed cells in a line
//!   that must add up to 2 are both 1).
//! * **Complementary suppression.** With [`Strategy::LineGreedy`] (the default), every line that
//!   holds exactly one hidden entry — counting unpublished margins as hidden — gets a partner:
//!   the smallest non-zero shown inner entry of that line (ties: the first), or the line's margin
//!   when there is none; this repeats until no line changes. With [`Strategy::ShortestCycle`]
//!   each exposed cell instead gets the cheapest set of partners that hides it (usually fewer).
//! * **Exact check and repair.** Both strategies end with the exact check of [`audit`]: any
//!   suppressed entry whose count is still determined by the published numbers gets the cheapest
//!   (smallest total `n`) set of extra suppressions that makes it ambiguous.
//! * **Hidden sums** ([`Protection::hidden_sum_min`], on by default). Values leak through sums:
//!   a line's margin value is public (here or elsewhere — a unit's overall mean always is), so
//!   its margin's mean and count together with the shown cells' means and counts give the
//!   combined mean of the line's hidden cells, a group of as many respondents as their counts
//!   add up to. So in every line (margin lines included) the hidden entries other than the
//!   line's own total must add up to 0 or to at least k. A line whose hidden sum is between 1
//!   and k − 1 gets more entries suppressed, smallest non-zero shown one first (ties: the first;
//!   the line's margin as a last resort, as in the line rule), and then the complementary
//!   suppression and the exact repair run again, alternating with this rule until none of them
//!   changes anything. The only lines the rule cannot fix are those with no shown non-zero
//!   entry left: their hidden entries are the whole line, their combined mean is the line
//!   total's own, and that total is then suppressed as small or not published (see *Limits*).
//! * **Numbers published elsewhere** ([`Table::known_elsewhere`]). A margin that is also
//!   published on its own — a unit's respondents and score in a group, on its scorecard and in
//!   the scores API — is known to every reader, so hiding it here would protect nothing. Such
//!   entries are always shown (even below k), are never chosen as partners, and count as known
//!   in the exact check and the hidden-sum rule.
//! * **Withheld rows** ([`protect_withholding_rows`]). A row whose total is known elsewhere and
//!   below k cannot be protected: its hidden cells are a small group of known size and mean,
//!   and shown zeros beside a single hidden cell would even say which category all of them
//!   are in. Such a row is withheld whole: every entry of it, total included, is published as
//!   hidden, and the other totals leave it out, so the table says nothing about how its
//!   respondents split. The same happens to any row in which, because known entries may not
//!   be suppressed, no pattern of suppressions stops the audit from recovering a count.
//! * **Termination.** Every step only turns shown entries into suppressed ones, so the process
//!   ends, and the output always passes the audit unless entries known elsewhere block every
//!   repair of some hidden count; [`protect_withholding_rows`] withholds such rows, so its
//!   output always passes.
//! * **Values.** A suppressed entry hides its value (mean, percentage) along with its count.
//!
//! # The attacker the audit assumes
//!
//! The reader knows every shown number, which margins are published, that counts are
//! non-negative integers, that published totals are exact sums and that suppressed counts are at
//! least 1. An entry is *derivable* when these facts allow only one value for it. The reader is
//! **not** assumed to see [`Reason`] (see its documentation), nor to use the published values
//! (means, percentages) to reason about counts. What values give away by themselves (combined
//! means over a line's hidden cells) is handled by the hidden-sum rule when the table is
//! protected; [`audit`] does not check it.
//!
//! # The audit
//!
//! [`audit`] runs three checks, from the classic to the exact one:
//! 1. *Peeling*: a line with one unknown entry gives it away; recovered entries count as known
//!    and this repeats until nothing changes.
//! 2. *Bounds*: every hidden count starts in `[1, ∞)` (`[0, ∞)` for an unpublished margin) and
//!    each line tightens it (`x ≥ total − Σ upper(others)`, `x ≤ total − Σ lower(others)`) to a
//!    fixpoint; an interval of width 0 is a disclosure.
//! 3. *Unique solution*: the exact test. Two tables that agree on everything published differ by
//!    a sum of *cycles*, each alternately adding and removing 1 around a closed path of hidden
//!    entries that turns at lines. A hidden count can take another value if and only if some
//!    cycle through it keeps every entry at or above its known lower bound, which is a
//!    reachability question in a small directed graph. This catches what peeling and bounds
//!    miss, such as a cell that only a combination of several lines pins down.
//!
//! The audit reads the true counts kept inside a [`ProtectedTable`] (they are never serialized),
//! so it can also say which value an attacker would recover and whether it is a small one.
//!
//! # Limits
//!
//! * The guarantee is against *exact* recovery. A reader may still narrow a hidden count (to
//!   "1 or 2", say); [`Audit::intervals`] shows how far line-by-line reasoning gets.
//! * Each table is protected on its own. Two published tables that share cells or totals (the
//!   same breakdown with and without a filter, overlapping sub-categories) can be subtracted
//!   from each other; publish every view of a breakdown from one protected table.
//! * Values are hidden with their counts, but a published margin's mean together with the shown
//!   cells' means and counts still gives the combined mean over the hidden cells of that line.
//!   The hidden-sum rule makes each such group at least k strong, line by line. Combinations
//!   of lines (two rows minus a column, say) can still single out a smaller group of hidden
//!   cells: the exact check guarantees that no such combination isolates a single cell, not
//!   that every group it isolates has k respondents.
//! * A line whose non-zero entries are all small is hidden entirely, and its combined mean is
//!   its total's. If that total is published elsewhere and is below k, declare it known and
//!   withhold the row ([`protect_withholding_rows`]); the publication elsewhere is the
//!   publisher's own decision (scores of a unit with few respondents are published, their
//!   answer distributions are not).
//! * With the hidden-sum rule off, a line's hidden cells may add up to fewer than k, and their
//!   combined mean is then a small group's.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;

use serde::{Serialize, Serializer};

/// The methodology's default minimum cell size `k` (`quality.disclosure_min_n`).
pub const DEFAULT_MIN_N: u64 = 10;

/// How many times the bounds check may sweep all lines; its intervals are valid after any
/// number of sweeps, this only caps the work on pathological inputs.
const MAX_BOUND_SWEEPS: usize = 256;

/// A number before protection: how many respondents it stands for and, optionally, the
/// statistic computed from them (a mean, a percentage, …).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cell {
    /// The number of respondents behind the number.
    pub n: u64,
    /// The statistic published with the count, if any; hidden whenever the count is.
    pub value: Option<f64>,
}

impl Cell {
    /// A cell that carries only a count.
    #[must_use]
    pub const fn count(n: u64) -> Self {
        Self { n, value: None }
    }

    /// A cell with a count and a statistic.
    #[must_use]
    pub const fn with_value(n: u64, value: f64) -> Self {
        Self {
            n,
            value: Some(value),
        }
    }
}

/// Where a number sits in a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Position {
    /// An inner cell.
    Cell {
        /// Zero-based row.
        row: usize,
        /// Zero-based column.
        column: usize,
    },
    /// The total of one row (for a one-dimensional breakdown: its total).
    RowTotal {
        /// Zero-based row.
        row: usize,
    },
    /// The total of one column.
    ColumnTotal {
        /// Zero-based column.
        column: usize,
    },
    /// The total of the whole table.
    GrandTotal,
}

/// Why a table was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableError {
    /// A row has a different number of cells from the first row.
    Ragged {
        /// The offending row.
        row: usize,
        /// The first row's length.
        expected: usize,
        /// This row's length.
        found: usize,
    },
    /// The row totals are not one per row.
    RowTotalsLength {
        /// The number of rows.
        expected: usize,
        /// The number of totals given.
        found: usize,
    },
    /// The column totals are not one per column.
    ColumnTotalsLength {
        /// The number of columns.
        expected: usize,
        /// The number of totals given.
        found: usize,
    },
    /// A published total is not the sum of its cells, so the table is not additive and the
    /// protection could not reason about it.
    NotAdditive {
        /// The total in question.
        position: Position,
        /// The count given for it.
        stated: u64,
        /// The sum of its cells.
        sum: u64,
    },
    /// The cells of a published total add up to more than `u64::MAX`.
    Overflow {
        /// The total in question.
        position: Position,
    },
    /// An entry declared known elsewhere is not one this table publishes.
    NotPublished {
        /// The entry in question.
        position: Position,
    },
    /// The rows kept by [`protect_withholding_rows`] do not match the table built for them.
    RowCount {
        /// Rows kept.
        expected: usize,
        /// Rows in the table.
        found: usize,
    },
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ragged {
                row,
                expected,
                found,
            } => write!(
                f,
                "row {row} has {found} cells, the first row has {expected}"
            ),
            Self::RowTotalsLength { expected, found } => {
                write!(f, "{found} row totals for {expected} rows")
            }
            Self::ColumnTotalsLength { expected, found } => {
                write!(f, "{found} column totals for {expected} columns")
            }
            Self::NotAdditive {
                position,
                stated,
                sum,
            } => write!(f, "{position:?} is {stated} but its cells add up to {sum}"),
            Self::Overflow { position } => write!(f, "the cells of {position:?} overflow a u64"),
            Self::NotPublished { position } => {
                write!(f, "{position:?} is known elsewhere but not published here")
            }
            Self::RowCount { expected, found } => {
                write!(f, "{found} rows in the table for {expected} rows kept")
            }
        }
    }
}

impl std::error::Error for TableError {}

/// A breakdown to protect: inner cells and whichever margins will be published.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    rows: usize,
    columns: usize,
    /// Row-major, `rows × columns`.
    cells: Vec<Cell>,
    row_totals: Option<Vec<Cell>>,
    column_totals: Option<Vec<Cell>>,
    grand_total: Option<Cell>,
    /// Entries published elsewhere (see [`Table::known_elsewhere`]).
    known: Vec<Position>,
}

impl Table {
    /// A table of inner cells, one `Vec` per row, with no margins published.
    ///
    /// # Errors
    /// [`TableError::Ragged`] when the rows differ in length.
    pub fn new(cells: Vec<Vec<Cell>>) -> Result<Self, TableError> {
        Self::of_width(cells.first().map_or(0, Vec::len), cells)
    }

    /// A table of `columns` columns, as [`Table::new`]; unlike it, keeps its columns when it
    /// has no rows (a breakdown all of whose rows are withheld still has its categories).
    ///
    /// # Errors
    /// [`TableError::Ragged`] when a row is not `columns` long.
    pub fn of_width(columns: usize, cells: Vec<Vec<Cell>>) -> Result<Self, TableError> {
        let rows = cells.len();
        let mut flat = Vec::with_capacity(rows.saturating_mul(columns));
        for (row, line) in cells.into_iter().enumerate() {
            if line.len() != columns {
                return Err(TableError::Ragged {
                    row,
                    expected: columns,
                    found: line.len(),
                });
            }
            flat.extend(line);
        }
        Ok(Self {
            rows,
            columns,
            cells: flat,
            row_totals: None,
            column_totals: None,
            grand_total: None,
            known: Vec::new(),
        })
    }

    /// A one-dimensional breakdown: a `1 × C` table whose categories are the cells and whose
    /// total, when given, is the published row total.
    ///
    /// # Errors
    /// [`TableError::NotAdditive`] or [`TableError::Overflow`] when the total is not the sum
    /// of the categories.
    pub fn one_dimensional(categories: Vec<Cell>, total: Option<Cell>) -> Result<Self, TableError> {
        let table = Self::new(vec![categories])?;
        match total {
            Some(total) => table.with_row_totals(vec![total]),
            None => Ok(table),
        }
    }

    /// Publishes one total per row.
    ///
    /// # Errors
    /// [`TableError::RowTotalsLength`], or [`TableError::NotAdditive`] /
    /// [`TableError::Overflow`] when a total is not its row's sum.
    pub fn with_row_totals(mut self, totals: Vec<Cell>) -> Result<Self, TableError> {
        if totals.len() != self.rows {
            return Err(TableError::RowTotalsLength {
                expected: self.rows,
                found: totals.len(),
            });
        }
        for (row, total) in totals.iter().enumerate() {
            let cells = (0..self.columns).filter_map(|column| self.cell(row, column));
            check_sum(Position::RowTotal { row }, total.n, cells)?;
        }
        self.row_totals = Some(totals);
        Ok(self)
    }

    /// Publishes one total per column.
    ///
    /// # Errors
    /// [`TableError::ColumnTotalsLength`], or [`TableError::NotAdditive`] /
    /// [`TableError::Overflow`] when a total is not its column's sum.
    pub fn with_column_totals(mut self, totals: Vec<Cell>) -> Result<Self, TableError> {
        if totals.len() != self.columns {
            return Err(TableError::ColumnTotalsLength {
                expected: self.columns,
                found: totals.len(),
            });
        }
        for (column, total) in totals.iter().enumerate() {
            let cells = (0..self.rows).filter_map(|row| self.cell(row, column));
            check_sum(Position::ColumnTotal { column }, total.n, cells)?;
        }
        self.column_totals = Some(totals);
        Ok(self)
    }

    /// Publishes the grand total.
    ///
    /// # Errors
    /// [`TableError::NotAdditive`] / [`TableError::Overflow`] when it is not the sum of all
    /// cells.
    pub fn with_grand_total(mut self, total: Cell) -> Result<Self, TableError> {
        check_sum(Position::GrandTotal, total.n, self.cells.iter())?;
        self.grand_total = Some(total);
        Ok(self)
    }

    /// Publishes all margins at once: row totals, column totals and the grand total.
    ///
    /// # Errors
    /// As [`Table::with_row_totals`], [`Table::with_column_totals`] and
    /// [`Table::with_grand_total`].
    pub fn with_margins(
        self,
        row_totals: Vec<Cell>,
        column_totals: Vec<Cell>,
        grand_total: Cell,
    ) -> Result<Self, TableError> {
        self.with_row_totals(row_totals)?
            .with_column_totals(column_totals)?
            .with_grand_total(grand_total)
    }

    /// Declares entries that are published elsewhere with the same count and value (a unit's
    /// respondents and score on its scorecard, a national total): a reader knows them whatever
    /// this table shows, so they are never suppressed, neither as small nor as partners, and
    /// the protection and the audit treat them as known. Hiding them would protect nothing and
    /// would let the protection rely on secrecy that does not exist.
    ///
    /// # Errors
    /// [`TableError::NotPublished`] when a position is outside the table or a margin this
    /// table does not publish (publish it first: it is public anyway).
    pub fn known_elsewhere(
        mut self,
        positions: impl IntoIterator<Item = Position>,
    ) -> Result<Self, TableError> {
        for position in positions {
            let published = match position {
                Position::Cell { row, column } => row < self.rows && column < self.columns,
                Position::RowTotal { row } => self.row_totals.is_some() && row < self.rows,
                Position::ColumnTotal { column } => {
                    self.column_totals.is_some() && column < self.columns
                }
                Position::GrandTotal => self.grand_total.is_some(),
            };
            if !published {
                return Err(TableError::NotPublished { position });
            }
            self.known.push(position);
        }
        Ok(self)
    }

    /// The number of rows.
    #[must_use]
    pub const fn rows(&self) -> usize {
        self.rows
    }

    /// The number of columns.
    #[must_use]
    pub const fn columns(&self) -> usize {
        self.columns
    }

    /// The inner cell at `row`, `column`, if it exists.
    #[must_use]
    pub fn cell(&self, row: usize, column: usize) -> Option<&Cell> {
        if row >= self.rows || column >= self.columns {
            return None;
        }
        self.cells.get(row * self.columns + column)
    }
}

/// Checks that `stated` is the exact sum of `cells`.
fn check_sum<'a>(
    position: Position,
    stated: u64,
    cells: impl Iterator<Item = &'a Cell>,
) -> Result<(), TableError> {
    let mut sum: u64 = 0;
    for cell in cells {
        sum = sum
            .checked_add(cell.n)
            .ok_or(TableError::Overflow { position })?;
    }
    if sum == stated {
        Ok(())
    } else {
        Err(TableError::NotAdditive {
            position,
            stated,
            sum,
        })
    }
}

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
    min_n: u64,
    grid: Grid,
    /// For every published row, its row in `grid`, or `None` when the row is withheld whole.
    layout: Vec<Option<usize>>,
}

impl ProtectedTable {
    /// The protected grid, every row published.
    fn of(min_n: u64, grid: Grid) -> Self {
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
    fn outer(&self, position: Position) -> Position {
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

/// Which check found a disclosure (the simplest one that does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// A line with a single unknown, possibly after recovering others the same way.
    Peeling,
    /// The entry's interval, tightened line by line, has collapsed to one value.
    Bounds,
    /// No other table consistent with the published numbers gives the entry another value.
    UniqueSolution,
}

/// A suppressed entry an attacker can recover. Contains the confidential count: for internal
/// use only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    /// The entry.
    pub position: Position,
    /// The count the attacker recovers.
    pub value: u64,
    /// Whether that count is below k, i.e. the attacker learns a small group.
    pub small: bool,
    /// The simplest check that recovers it.
    pub method: Method,
}

/// What the bounds check knows about one suppressed count: `lower ≤ n ≤ upper`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    /// The entry.
    pub position: Position,
    /// The least value consistent with the published numbers (as far as line-by-line
    /// tightening finds).
    pub lower: u64,
    /// The greatest such value; `None` when unbounded (e.g. the grand total is hidden).
    pub upper: Option<u64>,
}

/// The result of [`audit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// Every suppressed entry an attacker can recover, in reading order.
    pub findings: Vec<Finding>,
    /// The bounds check's interval for every suppressed entry, in reading order. These are
    /// valid but not always the tightest possible; the exact check does not rely on them.
    pub intervals: Vec<Interval>,
}

/// Attacks a protected table with peeling, bounds and the exact unique-solution test (see the
/// module documentation) and reports every suppressed entry whose count can be recovered.
#[must_use]
pub fn audit(table: &ProtectedTable) -> Audit {
    let grid = &table.grid;
    let peeled = grid.peel();
    let bounds = grid.bounds();
    let pinned = grid.pinned();
    let mut findings = Vec::new();
    let mut intervals = Vec::new();
    for (idx, slot) in grid.slots.iter().enumerate() {
        if !matches!(slot.state, State::Suppressed(_)) {
            continue;
        }
        let position = table.outer(grid.position(idx));
        let bound = bounds.get(idx).copied().unwrap_or(Bounds::UNKNOWN);
        intervals.push(Interval {
            position,
            lower: u64::try_from(bound.lower.max(0)).unwrap_or(u64::MAX),
            upper: bound
                .upper
                .map(|u| u64::try_from(u.max(0)).unwrap_or(u64::MAX)),
        });
        let method = if peeled.get(idx).copied().unwrap_or(false) {
            Some(Method::Peeling)
        } else if bound.collapsed() {
            Some(Method::Bounds)
        } else if pinned.get(idx).copied().unwrap_or(false) {
            Some(Method::UniqueSolution)
        } else {
            None
        };
        if let Some(method) = method {
            findings.push(Finding {
                position,
                value: slot.n,
                small: slot.n < table.min_n,
                method,
            });
        }
    }
    Audit {
        findings,
        intervals,
    }
}

/// The suppressed entries whose counts an attacker can recover, in reading order; empty for
/// every table [`protect`] returns without entries known elsewhere, and for every table
/// [`protect_withholding_rows`] returns.
#[must_use]
pub fn derivable_cells(table: &ProtectedTable) -> Vec<Position> {
    audit(table)
        .findings
        .into_iter()
        .map(|finding| finding.position)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The grid: inner cells plus a margin row and column, each entry with its true count.

/// Whether and how an entry is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A margin the caller does not publish: unknown to readers, never needs hiding.
    Unpublished,
    /// Published as is.
    Shown,
    /// Published as hidden.
    Suppressed(Reason),
}

/// One entry of the grid.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Slot {
    /// The true count (for an unpublished margin: the sum of its cells, saturating).
    n: u64,
    value: Option<f64>,
    state: State,
    /// Published elsewhere ([`Table::known_elsewhere`]): always shown, never a partner.
    known: bool,
}

/// A row or column of the grid: its inner entries add up to its margin entry.
struct Line {
    members: Vec<usize>,
    total: usize,
}

impl Line {
    fn entries(&self) -> impl Iterator<Item = usize> + '_ {
        self.members
            .iter()
            .copied()
            .chain(std::iter::once(self.total))
    }
}

/// The `(rows + 1) × (columns + 1)` grid, row-major; index `rows` / `columns` is the margin.
/// Its sizes come from allocated vectors, so the index arithmetic cannot overflow.
///
/// Seen as a graph, grid row `a` and grid column `b` are nodes (`a` and `height + b`) and the
/// entry at `(a, b)` is an edge between them. Two tables agreeing on all published numbers
/// differ by a sum of cycles in that graph that alternately add and remove 1; on an inner cell
/// or the grand total "add" means +1, on a row or column total it means −1 (a total sits on the
/// other side of its line's equation).
#[derive(Debug, Clone, PartialEq)]
struct Grid {
    rows: usize,
    columns: usize,
    row_totals_published: bool,
    column_totals_published: bool,
    slots: Vec<Slot>,
}

impl Grid {
    fn from_table(table: &Table) -> Self {
        let (rows, columns) = (table.rows, table.columns);
        let sum = |cells: &mut dyn Iterator<Item = &Cell>| {
            cells.fold(0_u64, |acc, cell| acc.saturating_add(cell.n))
        };
        let published = |cell: Option<&Cell>| Slot {
            n: cell.map_or(0, |c| c.n),
            value: cell.and_then(|c| c.value),
            state: State::Shown,
            known: false,
        };
        let hidden = |n: u64| Slot {
            n,
            value: None,
            state: State::Unpublished,
            known: false,
        };
        let mut slots = Vec::with_capacity((rows + 1).saturating_mul(columns + 1));
        for a in 0..=rows {
            for b in 0..=columns {
                let slot = match (a < rows, b < columns) {
                    (true, true) => published(table.cell(a, b)),
                    (true, false) => match &table.row_totals {
                        Some(totals) => published(totals.get(a)),
                        None => hidden(sum(
                            &mut (0..columns).filter_map(|column| table.cell(a, column))
                        )),
                    },
                    (false, true) => match &table.column_totals {
                        Some(totals) => published(totals.get(b)),
                        None => hidden(sum(&mut (0..rows).filter_map(|row| table.cell(row, b)))),
                    },
                    (false, false) => match &table.grand_total {
                        Some(total) => published(Some(total)),
                        None => hidden(sum(&mut table.cells.iter())),
                    },
                };
                slots.push(slot);
            }
        }
        let mut grid = Self {
            rows,
            columns,
            row_totals_published: table.row_totals.is_some(),
            column_totals_published: table.column_totals.is_some(),
            slots,
        };
        for &position in &table.known {
            if let Some(slot) = grid
                .index_of(position)
                .and_then(|idx| grid.slots.get_mut(idx))
                .filter(|slot| slot.state == State::Shown)
            {
                slot.known = true;
            }
        }
        grid
    }

    const fn width(&self) -> usize {
        self.columns + 1
    }

    const fn height(&self) -> usize {
        self.rows + 1
    }

    const fn nodes(&self) -> usize {
        self.height() + self.width()
    }

    const fn index(&self, a: usize, b: usize) -> usize {
        a * self.width() + b
    }

    const fn coords(&self, idx: usize) -> (usize, usize) {
        (idx / self.width(), idx % self.width())
    }

    fn index_of(&self, position: Position) -> Option<usize> {
        let (a, b) = match position {
            Position::Cell { row, column } if row < self.rows && column < self.columns => {
                (row, column)
            }
            Position::RowTotal { row } if row < self.rows => (row, self.columns),
            Position::ColumnTotal { column } if column < self.columns => (self.rows, column),
            Position::GrandTotal => (self.rows, self.columns),
            Position::Cell { .. } | Position::RowTotal { .. } | Position::ColumnTotal { .. } => {
                return None;
            }
        };
        Some(self.index(a, b))
    }

    fn position(&self, idx: usize) -> Position {
        let (a, b) = self.coords(idx);
        match (a < self.rows, b < self.columns) {
            (true, true) => Position::Cell { row: a, column: b },
            (true, false) => Position::RowTotal { row: a },
            (false, true) => Position::ColumnTotal { column: b },
            (false, false) => Position::GrandTotal,
        }
    }

    fn slot(&self, idx: usize) -> Option<&Slot> {
        self.slots.get(idx)
    }

    fn state(&self, idx: usize) -> Option<State> {
        self.slot(idx).map(|slot| slot.state)
    }

    fn is_hidden(&self, idx: usize) -> bool {
        self.state(idx).is_some_and(|state| state != State::Shown)
    }

    /// Suppresses an entry, unless it is known elsewhere.
    fn suppress(&mut self, idx: usize, reason: Reason) {
        if let Some(slot) = self.slots.get_mut(idx)
            && !slot.known
        {
            slot.state = State::Suppressed(reason);
        }
    }

    /// Whether the entry could be suppressed as a partner: shown, non-zero and not known
    /// elsewhere.
    fn is_candidate(&self, idx: usize) -> bool {
        self.slot(idx)
            .is_some_and(|slot| slot.state == State::Shown && slot.n > 0 && !slot.known)
    }

    /// The two nodes an entry joins: its grid row and its grid column.
    const fn endpoints(&self, idx: usize) -> (usize, usize) {
        let (a, b) = self.coords(idx);
        (a, self.height() + b)
    }

    /// Whether moving from the entry's row node to its column node adds 1 to its count (inner
    /// cells and the grand total) rather than removing 1 (row and column totals).
    const fn adds_forward(&self, idx: usize) -> bool {
        let (a, b) = self.coords(idx);
        (a < self.rows) == (b < self.columns)
    }

    fn lines(&self) -> Vec<Line> {
        let rows = (0..self.height()).map(|a| Line {
            members: (0..self.columns).map(|b| self.index(a, b)).collect(),
            total: self.index(a, self.columns),
        });
        let columns = (0..self.width()).map(|b| Line {
            members: (0..self.rows).map(|a| self.index(a, b)).collect(),
            total: self.index(self.rows, b),
        });
        rows.chain(columns).collect()
    }

    // --- protection ---

    fn suppress_primary(&mut self, min_n: u64) {
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
    fn repair_until_safe(&mut self) {
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

    // --- audit ---

    /// The lower bound a reader knows for a hidden entry (`None` for a shown one).
    fn known_lower(&self, idx: usize) -> Option<u64> {
        match self.state(idx)? {
            State::Suppressed(_) => Some(1),
            State::Unpublished => Some(0),
            State::Shown => None,
        }
    }

    /// The node-to-node moves along entry `idx` that keep its count at or above `lower`.
    /// Increasing is always possible (no upper bounds are known); decreasing needs slack.
    fn moves(&self, idx: usize, n: u64, lower: u64) -> impl Iterator<Item = (usize, usize)> {
        let (row, column) = self.endpoints(idx);
        let forward_adds = self.adds_forward(idx);
        let can_decrease = n > lower;
        let forward = (forward_adds || can_decrease).then_some((row, column));
        let backward = (!forward_adds || can_decrease).then_some((column, row));
        forward.into_iter().chain(backward)
    }

    /// The residual graph: for every hidden entry, its feasible moves at cost 0; with
    /// `candidates`, also the moves of shown non-zero entries (as if suppressed) at cost n.
    fn arcs(&self, candidates: bool) -> Vec<Vec<Arc>> {
        let mut arcs = vec![Vec::new(); self.nodes()];
        for (idx, slot) in self.slots.iter().enumerate() {
            let (lower, cost) = match self.known_lower(idx) {
                Some(lower) => (lower, 0),
                None if candidates && slot.n > 0 && !slot.known => (1, slot.n),
                None => continue,
            };
            for (from, to) in self.moves(idx, slot.n, lower) {
                if let Some(out) = arcs.get_mut(from) {
                    out.push(Arc {
                        to,
                        slot: idx,
                        cost,
                    });
                }
            }
        }
        arcs
    }

    /// For every entry: suppressed and on no feasible cycle, i.e. its count is the same in
    /// every table consistent with the published numbers. Exact: if another consistent table
    /// gives it another count, the difference splits into cycles, one of them through this
    /// entry, each moving counts only in directions the other table shows to be possible.
    fn pinned(&self) -> Vec<bool> {
        let arcs = self.arcs(false);
        self.slots
            .iter()
            .enumerate()
            .map(|(idx, slot)| {
                matches!(slot.state, State::Suppressed(_))
                    && !self
                        .moves(idx, slot.n, 1)
                        .any(|(from, to)| reaches(&arcs, to, from, idx))
            })
            .collect()
    }

    /// For every entry: whether peeling makes it known (shown entries are known from the
    /// start).
    fn peel(&self) -> Vec<bool> {
        let mut known: Vec<bool> = self
            .slots
            .iter()
            .map(|slot| slot.state == State::Shown)
            .collect();
        let lines = self.lines();
        loop {
            let mut changed = false;
            for line in &lines {
                let mut unknown = line
                    .entries()
                    .filter(|&idx| !known.get(idx).copied().unwrap_or(true));
                if let (Some(only), None) = (unknown.next(), unknown.next())
                    && let Some(flag) = known.get_mut(only)
                {
                    *flag = true;
                    changed = true;
                }
            }
            if !changed {
                return known;
            }
        }
    }

    /// Every entry's interval, tightened line by line.
    fn bounds(&self) -> Vec<Bounds> {
        let mut bounds: Vec<Bounds> = self
            .slots
            .iter()
            .enumerate()
            .map(|(idx, slot)| match self.known_lower(idx) {
                None => Bounds::exactly(slot.n),
                Some(lower) => Bounds {
                    lower: i128::from(lower),
                    upper: None,
                },
            })
            .collect();
        let lines = self.lines();
        for _ in 0..MAX_BOUND_SWEEPS {
            let mut changed = false;
            for line in &lines {
                changed |= tighten(&mut bounds, line);
            }
            if !changed {
                break;
            }
        }
        bounds
    }
}

/// One move in the residual graph.
#[derive(Debug, Clone, Copy)]
struct Arc {
    to: usize,
    slot: usize,
    cost: u64,
}

/// Whether `to` can be reached from `from` without using entry `avoid`.
fn reaches(arcs: &[Vec<Arc>], from: usize, to: usize, avoid: usize) -> bool {
    let mut seen = vec![false; arcs.len()];
    let mut queue = VecDeque::from([from]);
    if let Some(flag) = seen.get_mut(from) {
        *flag = true;
    }
    while let Some(node) = queue.pop_front() {
        if node == to {
            return true;
        }
        for arc in arcs.get(node).into_iter().flatten() {
            if arc.slot == avoid {
                continue;
            }
            if let Some(flag) = seen.get_mut(arc.to)
                && !*flag
            {
                *flag = true;
                queue.push_back(arc.to);
            }
        }
    }
    false
}

/// The cheapest path from `from` to `to` avoiding entry `avoid` (Dijkstra): its cost and the
/// entries along it.
fn cheapest_path(
    arcs: &[Vec<Arc>],
    from: usize,
    to: usize,
    avoid: usize,
) -> Option<(u64, Vec<usize>)> {
    let mut best: Vec<Option<u64>> = vec![None; arcs.len()];
    let mut via: Vec<Option<(usize, usize)>> = vec![None; arcs.len()];
    *best.get_mut(from)? = Some(0);
    let mut heap = BinaryHeap::from([Reverse((0_u64, from))]);
    while let Some(Reverse((cost, node))) = heap.pop() {
        if best.get(node).copied().flatten().is_some_and(|b| cost > b) {
            continue;
        }
        if node == to {
            break;
        }
        for arc in arcs.get(node).into_iter().flatten() {
            if arc.slot == avoid {
                continue;
            }
            let next = cost.saturating_add(arc.cost);
            let Some(known) = best.get_mut(arc.to) else {
                continue;
            };
            if known.is_none_or(|b| next < b) {
                *known = Some(next);
                if let Some(step) = via.get_mut(arc.to) {
                    *step = Some((node, arc.slot));
                }
                heap.push(Reverse((next, arc.to)));
            }
        }
    }
    let cost = best.get(to).copied().flatten()?;
    let mut path = Vec::new();
    let mut node = to;
    while node != from {
        let (previous, slot) = via.get(node).copied().flatten()?;
        path.push(slot);
        node = previous;
        if path.len() > arcs.len() {
            return None;
        }
    }
    Some((cost, path))
}

/// An interval for one count; `upper: None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bounds {
    lower: i128,
    upper: Option<i128>,
}

impl Bounds {
    const UNKNOWN: Self = Self {
        lower: 0,
        upper: None,
    };

    fn exactly(n: u64) -> Self {
        Self {
            lower: i128::from(n),
            upper: Some(i128::from(n)),
        }
    }

    fn collapsed(self) -> bool {
        self.upper == Some(self.lower)
    }
}

/// Raises a lower bound; returns whether it moved.
fn raise(bounds: &mut [Bounds], idx: usize, lower: i128) -> bool {
    match bounds.get_mut(idx) {
        Some(b) if lower > b.lower => {
            b.lower = lower;
            true
        }
        _ => false,
    }
}

/// Lowers an upper bound; returns whether it moved.
fn lower(bounds: &mut [Bounds], idx: usize, upper: i128) -> bool {
    match bounds.get_mut(idx) {
        Some(b) if b.upper.is_none_or(|u| upper < u) => {
            b.upper = Some(upper);
            true
        }
        _ => false,
    }
}

/// Applies `Σ members = total` to every interval of a line once; returns whether any moved.
/// Bounds read before a change in the same call are looser than the current ones, so every
/// derived bound is still valid.
fn tighten(bounds: &mut [Bounds], line: &Line) -> bool {
    let members: Vec<Bounds> = line
        .members
        .iter()
        .map(|&idx| bounds.get(idx).copied().unwrap_or(Bounds::UNKNOWN))
        .collect();
    let lower_sum = members
        .iter()
        .fold(0_i128, |acc, b| acc.saturating_add(b.lower));
    let unbounded = members.iter().filter(|b| b.upper.is_none()).count();
    let upper_finite_sum = members
        .iter()
        .filter_map(|b| b.upper)
        .fold(0_i128, i128::saturating_add);

    let mut changed = raise(bounds, line.total, lower_sum);
    if unbounded == 0 {
        changed |= lower(bounds, line.total, upper_finite_sum);
    }
    let total = bounds.get(line.total).copied().unwrap_or(Bounds::UNKNOWN);
    for (&idx, own) in line.members.iter().zip(&members) {
        let others_upper = match own.upper {
            Some(upper) if unbounded == 0 => Some(upper_finite_sum.saturating_sub(upper)),
            None if unbounded == 1 => Some(upper_finite_sum),
            _ => None,
        };
        if let Some(others_upper) = others_upper {
            changed |= raise(bounds, idx, total.lower.saturating_sub(others_upper));
        }
        if let Some(total_upper) = total.upper {
            let others_lower = lower_sum.saturating_sub(own.lower);
            changed |= lower(bounds, idx, total_upper.saturating_sub(others_lower));
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::Strategy;
    use super::*;
    use proptest::prelude::*;
    use proptest::strategy::Strategy as _;

    fn counts(rows: &[&[u64]]) -> Vec<Vec<Cell>> {
        rows.iter()
            .map(|row| row.iter().map(|&n| Cell::count(n)).collect())
            .collect()
    }

    /// A table of counts with all margins computed and published.
    fn with_all_margins(rows: &[&[u64]]) -> Table {
        let table = Table::new(counts(rows)).unwrap();
        let row_totals = (0..table.rows())
            .map(|r| Cell::count(rows[r].iter().sum()))
            .collect();
        let column_totals = (0..table.columns())
            .map(|c| Cell::count(rows.iter().map(|row| row[c]).sum()))
            .collect();
        let grand = Cell::count(rows.iter().flat_map(|row| row.iter()).sum());
        table
            .with_margins(row_totals, column_totals, grand)
            .unwrap()
    }

    /// The table with primary suppression only: what the auditor must catch.
    fn primary_only(table: &Table, min_n: u64) -> ProtectedTable {
        let mut grid = Grid::from_table(table);
        grid.suppress_primary(min_n);
        ProtectedTable::of(min_n, grid)
    }

    /// The table with exactly the given cells suppressed, nothing else.
    fn with_suppressed(table: &Table, cells: &[(usize, usize)]) -> ProtectedTable {
        let mut grid = Grid::from_table(table);
        for &(row, column) in cells {
            let idx = grid.index(row, column);
            grid.suppress(idx, Reason::Primary);
        }
        ProtectedTable::of(10, grid)
    }

    const PRIMARY: Entry = Entry::Suppressed {
        reason: Reason::Primary,
    };
    const COMPLEMENTARY: Entry = Entry::Suppressed {
        reason: Reason::Complementary,
    };

    fn shown(n: u64) -> Entry {
        Entry::Shown { n, value: None }
    }

    /// No grid line has a suppressed entry as its only hidden one (the line rule's invariant).
    fn lines_are_closed(table: &ProtectedTable) -> bool {
        table.grid.lines().iter().all(|line| {
            let mut hidden = line.entries().filter(|&idx| table.grid.is_hidden(idx));
            match (hidden.next(), hidden.next()) {
                (Some(only), None) => table.grid.state(only) == Some(State::Unpublished),
                _ => true,
            }
        })
    }

    /// The lines whose hidden inner entries add up to `0 < sum < k` although the line still
    /// shows a non-zero entry (its total included), each as the positions of its hidden inner
    /// entries. Computed from the grid directly, not with the rule's own helpers.
    fn small_hidden_sums(table: &ProtectedTable) -> Vec<Vec<Position>> {
        let grid = &table.grid;
        let shows = |idx: usize| grid.slots[idx].state == State::Shown;
        grid.lines()
            .iter()
            .filter_map(|line| {
                let hidden: Vec<usize> = line
                    .members
                    .iter()
                    .copied()
                    .filter(|&i| !shows(i))
                    .collect();
                let sum = hidden
                    .iter()
                    .fold(0_u64, |acc, &idx| acc.saturating_add(grid.slots[idx].n));
                let shows_more = line
                    .entries()
                    .any(|idx| shows(idx) && grid.slots[idx].n > 0);
                (sum > 0 && sum < table.min_n && shows_more)
                    .then(|| hidden.iter().map(|&idx| grid.position(idx)).collect())
            })
            .collect()
    }

    const SQUARE: &[&[u64]] = &[&[20, 12, 30], &[15, 3, 25], &[40, 11, 18]];

    /// Row 0 holds a 1 and a 3: once both are hidden (and partnered in their columns), the row
    /// total's mean and the shown cells' means give the mean of those 4 respondents.
    const SMALL_PAIR: &[&[u64]] = &[&[1, 3, 25, 40], &[12, 15, 30, 22], &[20, 18, 35, 27]];

    fn without_hidden_sum_rule(min_n: u64) -> Protection {
        Protection {
            hidden_sum_min: false,
            ..Protection::new(min_n)
        }
    }

    #[test]
    fn a_row_with_hidden_one_and_three_gets_more_cells_hidden_until_the_hidden_sum_reaches_k() {
        let protected = protect(&with_all_margins(SMALL_PAIR), Protection::new(10));
        // The 25 is the row's smallest shown cell: 1 + 3 + 25 = 29 ≥ 10.
        assert_eq!(
            protected.cells()[0],
            vec![PRIMARY, PRIMARY, COMPLEMENTARY, shown(40)]
        );
        assert_eq!(small_hidden_sums(&protected), Vec::<Vec<Position>>::new());
        assert!(lines_are_closed(&protected));
        assert_eq!(derivable_cells(&protected), vec![]);

        // The same in a breakdown: the 12 joins the 1 and the 3.
        let categories = [1, 3, 25, 40, 12].map(Cell::count).to_vec();
        let table = Table::one_dimensional(categories, Some(Cell::count(81))).unwrap();
        let protected = protect(&table, Protection::new(10));
        assert_eq!(
            protected.cells(),
            vec![vec![PRIMARY, PRIMARY, shown(25), shown(40), COMPLEMENTARY]]
        );
        assert_eq!(derivable_cells(&protected), vec![]);
    }

    #[test]
    fn with_the_hidden_sum_rule_off_a_line_can_hide_fewer_than_k_respondents() {
        let cell = |row, column| Position::Cell { row, column };
        let protected = protect(&with_all_margins(SMALL_PAIR), without_hidden_sum_rule(10));
        // The counts are safe (1 and 3 are each only known to be 1..=3), the 4-person mean is not.
        assert_eq!(
            protected.cells()[0],
            vec![PRIMARY, PRIMARY, shown(25), shown(40)]
        );
        assert_eq!(derivable_cells(&protected), vec![]);
        assert_eq!(
            small_hidden_sums(&protected),
            vec![vec![cell(0, 0), cell(0, 1)]]
        );

        let categories = [1, 3, 25, 40, 12].map(Cell::count).to_vec();
        let table = Table::one_dimensional(categories, Some(Cell::count(81))).unwrap();
        let protected = protect(&table, without_hidden_sum_rule(10));
        assert_eq!(
            small_hidden_sums(&protected),
            vec![vec![cell(0, 0), cell(0, 1)]]
        );
    }

    #[test]
    fn a_line_with_nothing_left_to_hide_is_left_as_it_is() {
        // Row 1 is 2 + 3 + 0: its total is small too, so hiding it all is all the rule can do.
        let table = with_all_margins(&[&[30, 25, 12], &[2, 3, 0], &[18, 40, 22]]);
        let protected = protect(&table, Protection::new(10));
        assert_eq!(protected.cells()[1], vec![PRIMARY, PRIMARY, shown(0)]);
        assert_eq!(protected.row_total(1), Some(PRIMARY));
        assert_eq!(small_hidden_sums(&protected), Vec::<Vec<Position>>::new());
        assert_eq!(derivable_cells(&protected), vec![]);
    }

    #[test]
    fn a_single_small_cell_gets_a_partner_in_its_row_and_column() {
        let protected = protect(&with_all_margins(SQUARE), Protection::new(10));
        assert_eq!(protected.cell(1, 1), Some(PRIMARY));
        // Row 1: 15 is its smallest other non-zero cell; column 1: 11 (< 12).
        assert_eq!(protected.cell(1, 0), Some(COMPLEMENTARY));
        assert_eq!(protected.cell(2, 1), Some(COMPLEMENTARY));
        assert!(lines_are_closed(&protected));
        assert_eq!(derivable_cells(&protected), vec![]);
        // The margins are all ≥ k and were never needed.
        assert_eq!(protected.grand_total(), Some(shown(174)));
        assert!(
            protected
                .row_totals()
                .unwrap()
                .iter()
                .all(|e| !e.is_suppressed())
        );
    }

    #[test]
    fn the_shortest_cycle_strategy_hides_a_single_small_cell_with_a_rectangle() {
        let protection = Protection {
            strategy: Strategy::ShortestCycle,
            ..Protection::new(10)
        };
        let protected = protect(&with_all_margins(SQUARE), protection);
        // 12 + 20 + 15 = 47 is the cheapest rectangle through the 3.
        let hidden: Vec<Position> = protected.suppressed().iter().map(|(p, _)| *p).collect();
        let cell = |row, column| Position::Cell { row, column };
        assert_eq!(hidden, vec![cell(0, 0), cell(0, 1), cell(1, 0), cell(1, 1)]);
        assert_eq!(derivable_cells(&protected), vec![]);
        // The line-greedy strategy hides more for the same table.
        let greedy = protect(&with_all_margins(SQUARE), Protection::new(10));
        assert!(greedy.suppressed().len() > hidden.len());
    }

    #[test]
    fn zero_cells_are_shown_and_never_chosen_as_partners() {
        let categories = [0, 4, 0, 30, 25].map(Cell::count).to_vec();
        let table = Table::one_dimensional(categories, Some(Cell::count(59))).unwrap();
        let protected = protect(&table, Protection::new(10));
        assert_eq!(
            protected.cells(),
            vec![vec![shown(0), PRIMARY, shown(0), shown(30), COMPLEMENTARY]]
        );
        assert_eq!(protected.row_total(0), Some(shown(59)));
        assert_eq!(derivable_cells(&protected), vec![]);

        // An all-zero row and its total are shown too, and zeros are never partners in 2-D.
        let protected = protect(
            &with_all_margins(&[&[0, 0, 0], &[0, 5, 20], &[0, 30, 12]]),
            Protection::new(10),
        );
        assert_eq!(protected.row_total(0), Some(shown(0)));
        assert_eq!(protected.column_total(0), Some(shown(0)));
        for (row, cells) in [&[0_u64, 0, 0][..], &[0, 5, 20], &[0, 30, 12]]
            .iter()
            .enumerate()
        {
            for (column, &n) in cells.iter().enumerate() {
                if n == 0 {
                    assert_eq!(protected.cell(row, column), Some(shown(0)));
                }
            }
        }
        assert_eq!(derivable_cells(&protected), vec![]);
    }

    #[test]
    fn suppressed_margins_hide_the_total() {
        let table = with_all_margins(&[&[30, 25, 12], &[2, 3, 0], &[18, 40, 22]]);
        let protected = protect(&table, Protection::new(10));
        assert_eq!(protected.row_total(1), Some(PRIMARY));
        assert_eq!(protected.cell(1, 0), Some(PRIMARY));
        assert_eq!(protected.cell(1, 1), Some(PRIMARY));
        assert_eq!(protected.cell(1, 2), Some(shown(0)));
        // The row totals now hold one hidden entry, so another one is hidden with it.
        let hidden_totals = protected
            .row_totals()
            .unwrap()
            .iter()
            .filter(|e| e.is_suppressed())
            .count();
        assert!(hidden_totals >= 2);
        assert!(lines_are_closed(&protected));
        assert_eq!(derivable_cells(&protected), vec![]);

        let json = serde_json::to_value(&protected).unwrap();
        assert_eq!(
            json["row_totals"][1],
            serde_json::json!({"status": "suppressed", "reason": "primary"})
        );
        let text = json.to_string();
        assert!(!text.contains(r#""n":5,"#) && !text.contains(r#""n":5}"#));
    }

    #[test]
    fn one_dimensional_breakdowns_suppress_two_cells() {
        let categories = [25, 3, 40, 12].map(Cell::count).to_vec();
        let table = Table::one_dimensional(categories, Some(Cell::count(80))).unwrap();
        let protected = protect(&table, Protection::new(10));
        assert_eq!(
            protected.cells(),
            vec![vec![shown(25), PRIMARY, shown(40), COMPLEMENTARY]]
        );
        assert_eq!(protected.row_total(0), Some(shown(80)));
        assert_eq!(protected.column_totals(), None);
        assert_eq!(protected.grand_total(), None);
        assert_eq!(derivable_cells(&protected), vec![]);
    }

    #[test]
    fn two_ones_in_a_breakdown_need_a_third_cell() {
        // Hiding both 1s is not enough: the reader knows hidden counts are ≥ 1 and that these
        // two add up to 92 − 40 − 50 = 2.
        let categories = [1, 1, 40, 50].map(Cell::count).to_vec();
        let table = Table::one_dimensional(categories, Some(Cell::count(92))).unwrap();

        let naive = primary_only(&table, 10);
        let findings = audit(&naive).findings;
        assert_eq!(findings.len(), 2);
        assert!(
            findings
                .iter()
                .all(|f| f.method == Method::Bounds && f.value == 1 && f.small)
        );

        let protected = protect(&table, Protection::new(10));
        assert_eq!(
            protected.cells(),
            vec![vec![PRIMARY, PRIMARY, COMPLEMENTARY, shown(50)]]
        );
        assert_eq!(derivable_cells(&protected), vec![]);
    }

    #[test]
    fn the_auditor_finds_the_cell_when_complementary_suppression_is_skipped() {
        let naive = primary_only(&with_all_margins(SQUARE), 10);
        assert_eq!(
            audit(&naive).findings,
            vec![Finding {
                position: Position::Cell { row: 1, column: 1 },
                value: 3,
                small: true,
                method: Method::Peeling,
            }]
        );
        // Same for a breakdown.
        let categories = [25, 3, 40, 12].map(Cell::count).to_vec();
        let table = Table::one_dimensional(categories, Some(Cell::count(80))).unwrap();
        assert_eq!(
            derivable_cells(&primary_only(&table, 10)),
            vec![Position::Cell { row: 0, column: 1 }]
        );
    }

    #[test]
    fn the_auditor_sees_through_a_bridge_between_two_hidden_blocks() {
        // Two hidden 2×2 blocks joined by one hidden cell (0, 2): every line holds at least two
        // hidden cells, so peeling finds nothing, yet rows 0 + 1 minus columns 0 + 1 give the
        // bridge away.
        let table = with_all_margins(&[
            &[31, 27, 22, 40],
            &[26, 35, 44, 38],
            &[47, 29, 33, 21],
            &[25, 42, 36, 30],
        ]);
        let blocks = [
            (0, 0),
            (0, 1),
            (1, 0),
            (1, 1),
            (2, 2),
            (2, 3),
            (3, 2),
            (3, 3),
        ];
        let mut cells = blocks.to_vec();
        cells.push((0, 2));
        let mut bridged = with_suppressed(&table, &cells);
        assert!(lines_are_closed(&bridged));
        assert!(
            bridged
                .grid
                .peel()
                .iter()
                .zip(&bridged.grid.slots)
                .all(|(known, slot)| !known || slot.state == State::Shown)
        );
        let findings = audit(&bridged).findings;
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].position, Position::Cell { row: 0, column: 2 });
        assert_eq!(findings[0].value, 22);
        assert_ne!(findings[0].method, Method::Peeling);

        // Without the bridge both blocks are safe; with it, the repair makes it safe.
        assert_eq!(derivable_cells(&with_suppressed(&table, &blocks)), vec![]);
        bridged.grid.repair_until_safe();
        assert_eq!(derivable_cells(&bridged), vec![]);
    }

    #[test]
    fn tables_without_published_margins_need_partners_only_for_their_values() {
        let table = Table::new(counts(SQUARE)).unwrap();
        let cell = |row, column| Position::Cell { row, column };
        // For the counts alone the 3 needs no partner: no total says what it adds up to.
        let counts_only = protect(&table, without_hidden_sum_rule(10));
        assert_eq!(
            counts_only.suppressed(),
            vec![(cell(1, 1), Reason::Primary)]
        );
        assert_eq!(counts_only.row_totals(), None);
        assert_eq!(derivable_cells(&counts_only), vec![]);
        // But its row's and its column's means may be published elsewhere, and with the shown
        // cells' means they would give the 3 respondents' mean: each line gets a partner.
        let protected = protect(&table, Protection::new(10));
        assert_eq!(
            protected.suppressed(),
            vec![
                (cell(1, 0), Reason::Complementary),
                (cell(1, 1), Reason::Primary),
                (cell(2, 1), Reason::Complementary)
            ]
        );
        assert_eq!(protected.row_totals(), None);
        assert_eq!(derivable_cells(&protected), vec![]);
    }

    #[test]
    fn a_published_grand_total_alone_still_protects_a_small_cell() {
        // The cells must add up to the grand total, so the 3 is 68 − 20 − 15 − 30. Hiding the
        // 15 on the other diagonal leaves only 3 + 15 = 18, which splits many ways.
        let table = Table::new(counts(&[&[20, 3], &[15, 30]]))
            .unwrap()
            .with_grand_total(Cell::count(68))
            .unwrap();
        assert_eq!(
            audit(&primary_only(&table, 10)).findings[0].method,
            Method::Peeling
        );
        let counts_only = protect(&table, without_hidden_sum_rule(10));
        assert_eq!(
            counts_only.cells(),
            vec![vec![shown(20), PRIMARY], vec![COMPLEMENTARY, shown(30)]]
        );
        assert_eq!(derivable_cells(&counts_only), vec![]);
        // The hidden-sum rule then wants more than 3 respondents hidden in the 3's row and in
        // its column: the 20 and the 30 go too, and nothing is left shown.
        let protected = protect(&table, Protection::new(10));
        assert_eq!(
            protected.cells(),
            vec![
                vec![COMPLEMENTARY, PRIMARY],
                vec![COMPLEMENTARY, COMPLEMENTARY]
            ]
        );
        assert_eq!(protected.grand_total(), Some(shown(68)));
        assert_eq!(derivable_cells(&protected), vec![]);
    }

    #[test]
    fn shown_entries_keep_their_values_and_suppressed_ones_hide_them() {
        let table = Table::one_dimensional(
            vec![
                Cell::with_value(25, 0.5),
                Cell::with_value(3, 0.9),
                Cell::with_value(12, 0.25),
                Cell::with_value(40, 0.75),
            ],
            Some(Cell::with_value(80, 0.6)),
        )
        .unwrap();
        let protected = protect(&table, Protection::default());
        assert_eq!(
            protected.cell(0, 0),
            Some(Entry::Shown {
                n: 25,
                value: Some(0.5)
            })
        );
        assert_eq!(protected.cell(0, 1), Some(PRIMARY));
        assert_eq!(protected.cell(0, 2), Some(COMPLEMENTARY));
        assert_eq!(
            protected.row_total(0),
            Some(Entry::Shown {
                n: 80,
                value: Some(0.6)
            })
        );
        let json = serde_json::to_string(&protected).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"min_n":10,"cells":[[{"status":"shown","n":25,"value":0.5},"#,
                r#"{"status":"suppressed","reason":"primary"},"#,
                r#"{"status":"suppressed","reason":"complementary"},"#,
                r#"{"status":"shown","n":40,"value":0.75}]],"#,
                r#""row_totals":[{"status":"shown","n":80,"value":0.6}],"#,
                r#""column_totals":null,"grand_total":null}"#
            )
        );
    }

    #[test]
    fn inconsistent_tables_are_rejected() {
        assert_eq!(
            Table::new(counts(&[&[1, 2], &[3]])),
            Err(TableError::Ragged {
                row: 1,
                expected: 2,
                found: 1
            })
        );
        let table = Table::new(counts(&[&[1, 2], &[3, 4]])).unwrap();
        assert_eq!(
            table.clone().with_row_totals(vec![Cell::count(3)]),
            Err(TableError::RowTotalsLength {
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            table
                .clone()
                .with_column_totals(vec![Cell::count(4), Cell::count(7)]),
            Err(TableError::NotAdditive {
                position: Position::ColumnTotal { column: 1 },
                stated: 7,
                sum: 6
            })
        );
        let huge = Table::new(counts(&[&[u64::MAX, 1]])).unwrap();
        assert_eq!(
            huge.with_grand_total(Cell::count(0)),
            Err(TableError::Overflow {
                position: Position::GrandTotal
            })
        );
        assert!(Table::one_dimensional(vec![Cell::count(1)], Some(Cell::count(2))).is_err());
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        let huge = Table::new(counts(&[&[u64::MAX, 3], &[1, u64::MAX - 1]])).unwrap();
        for min_n in [0, 1, 2, 10, u64::MAX] {
            for strategy in [Strategy::LineGreedy, Strategy::ShortestCycle] {
                for hidden_sum_min in [true, false] {
                    let protection = Protection {
                        min_n,
                        strategy,
                        hidden_sum_min,
                    };
                    let protected = protect(&huge, protection);
                    assert_eq!(derivable_cells(&protected), vec![]);
                    assert!(!hidden_sum_min || small_hidden_sums(&protected).is_empty());
                }
            }
        }
        for table in [
            Table::new(vec![]).unwrap(),
            Table::new(vec![vec![], vec![]]).unwrap(),
            Table::one_dimensional(vec![], Some(Cell::count(0))).unwrap(),
        ] {
            let protected = protect(&table, Protection::default());
            assert_eq!(derivable_cells(&protected), vec![]);
            assert!(protected.suppressed().is_empty());
        }
        // k ≤ 1 suppresses nothing.
        let protected = protect(&with_all_margins(SQUARE), Protection::new(1));
        assert!(protected.suppressed().is_empty());
        assert_eq!(protected.entry(Position::Cell { row: 9, column: 0 }), None);
    }

    // --- properties ---

    #[derive(Debug, Clone)]
    struct Case {
        rows: usize,
        columns: usize,
        cells: Vec<(u64, Option<f64>)>,
        publish: [bool; 3],
    }

    impl Case {
        fn table(&self) -> Table {
            let grid: Vec<Vec<Cell>> = self
                .cells
                .chunks(self.columns)
                .map(|row| row.iter().map(|&(n, value)| Cell { n, value }).collect())
                .collect();
            let n = |r: usize, c: usize| self.cells[r * self.columns + c].0;
            let mut table = Table::new(grid).unwrap();
            if self.publish[0] {
                let totals = (0..self.rows)
                    .map(|r| Cell::with_value((0..self.columns).map(|c| n(r, c)).sum(), 1.5))
                    .collect();
                table = table.with_row_totals(totals).unwrap();
            }
            if self.publish[1] {
                let totals = (0..self.columns)
                    .map(|c| Cell::count((0..self.rows).map(|r| n(r, c)).sum()))
                    .collect();
                table = table.with_column_totals(totals).unwrap();
            }
            if self.publish[2] {
                let total = self.cells.iter().map(|&(n, _)| n).sum();
                table = table
                    .with_grand_total(Cell::with_value(total, -2.0))
                    .unwrap();
            }
            table
        }
    }

    fn cases(max_side: usize, max_n: u64) -> impl proptest::strategy::Strategy<Value = Case> {
        (1..=max_side, 1..=max_side).prop_flat_map(move |(rows, columns)| {
            (
                proptest::collection::vec(
                    (0..=max_n, proptest::option::of(-1.0e6_f64..1.0e6)),
                    rows * columns,
                ),
                any::<[bool; 3]>(),
            )
                .prop_map(move |(cells, publish)| Case {
                    rows,
                    columns,
                    cells,
                    publish,
                })
        })
    }

    /// Every published entry of the input, by position.
    fn inputs(table: &Table) -> Vec<(Position, Cell)> {
        let mut all = Vec::new();
        for row in 0..table.rows() {
            for column in 0..table.columns() {
                all.push((
                    Position::Cell { row, column },
                    *table.cell(row, column).unwrap(),
                ));
            }
        }
        for (row, total) in table.row_totals.iter().flatten().enumerate() {
            all.push((Position::RowTotal { row }, *total));
        }
        for (column, total) in table.column_totals.iter().flatten().enumerate() {
            all.push((Position::ColumnTotal { column }, *total));
        }
        if let Some(total) = table.grand_total {
            all.push((Position::GrandTotal, total));
        }
        all
    }

    /// Ground truth by enumeration: which suppressed entries take one value in every table of
    /// non-negative counts (each ≤ `bound`) that agrees with the published numbers and has
    /// every suppressed count ≥ 1.
    fn brute_force_derivable(table: &ProtectedTable, bound: u64) -> Vec<Position> {
        let grid = &table.grid;
        let inner = grid.rows * grid.columns;
        let mut x = vec![0_u64; inner];
        let mut seen: Vec<Option<(u64, u64)>> = vec![None; grid.slots.len()];
        let mut values = vec![0_u64; grid.slots.len()];
        loop {
            for a in 0..=grid.rows {
                for b in 0..=grid.columns {
                    let in_row = |r: usize| -> u64 {
                        (0..grid.columns).map(|c| x[r * grid.columns + c]).sum()
                    };
                    let in_column =
                        |c: usize| -> u64 { (0..grid.rows).map(|r| x[r * grid.columns + c]).sum() };
                    values[grid.index(a, b)] = match (a < grid.rows, b < grid.columns) {
                        (true, true) => x[a * grid.columns + b],
                        (true, false) => in_row(a),
                        (false, true) => in_column(b),
                        (false, false) => x.iter().sum(),
                    };
                }
            }
            let consistent = grid
                .slots
                .iter()
                .zip(&values)
                .all(|(slot, &v)| match slot.state {
                    State::Shown => v == slot.n,
                    State::Suppressed(_) => v >= 1,
                    State::Unpublished => true,
                });
            if consistent {
                for (idx, &v) in values.iter().enumerate() {
                    seen[idx] = Some(seen[idx].map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))));
                }
            }
            // Next assignment, odometer style.
            let mut digit = 0;
            loop {
                if digit == inner {
                    let mut found = Vec::new();
                    for (idx, slot) in grid.slots.iter().enumerate() {
                        if matches!(slot.state, State::Suppressed(_)) {
                            let (lo, hi) = seen[idx].expect("the true table is consistent");
                            assert!(lo <= slot.n && slot.n <= hi);
                            if lo == hi {
                                found.push(grid.position(idx));
                            }
                        }
                    }
                    return found;
                }
                if x[digit] < bound {
                    x[digit] += 1;
                    break;
                }
                x[digit] = 0;
                digit += 1;
            }
        }
    }

    /// A table with an arbitrary set of its published non-zero entries suppressed.
    fn masked(case: &Case, mask: &[bool]) -> ProtectedTable {
        let mut grid = Grid::from_table(&case.table());
        for (idx, &hide) in mask.iter().enumerate() {
            if hide && grid.is_candidate(idx) {
                grid.suppress(idx, Reason::Primary);
            }
        }
        ProtectedTable::of(3, grid)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn protected_tables_hide_small_counts_keep_the_rest_and_pass_the_audit(
            case in cases(6, 40),
            min_n in 2_u64..15,
            shortest in any::<bool>(),
            hidden_sum_min in any::<bool>(),
        ) {
            let table = case.table();
            let strategy = if shortest { Strategy::ShortestCycle } else { Strategy::LineGreedy };
            let protected = protect(&table, Protection { min_n, strategy, hidden_sum_min });
            prop_assert_eq!(protected.rows(), table.rows());
            prop_assert_eq!(protected.columns(), table.columns());
            prop_assert_eq!(protected.row_totals().is_some(), case.publish[0]);
            prop_assert_eq!(protected.column_totals().is_some(), case.publish[1]);
            prop_assert_eq!(protected.grand_total().is_some(), case.publish[2]);
            for (position, cell) in inputs(&table) {
                let entry = protected.entry(position).unwrap();
                if cell.n > 0 && cell.n < min_n {
                    prop_assert_eq!(entry, PRIMARY, "{:?} {:?}", position, cell);
                } else if cell.n == 0 {
                    prop_assert_eq!(entry, Entry::Shown { n: 0, value: cell.value });
                } else {
                    prop_assert!(
                        entry == COMPLEMENTARY
                            || entry == Entry::Shown { n: cell.n, value: cell.value },
                        "{:?} {:?} {:?}", position, cell, entry
                    );
                }
            }
            prop_assert!(lines_are_closed(&protected));
            prop_assert_eq!(derivable_cells(&protected), vec![]);
            if hidden_sum_min {
                prop_assert_eq!(small_hidden_sums(&protected), Vec::<Vec<Position>>::new());
            }
        }

        #[test]
        fn the_cheaper_checks_only_flag_what_the_exact_one_flags(
            case in cases(6, 12),
            mask in proptest::collection::vec(any::<bool>(), 49),
        ) {
            let table = masked(&case, &mask);
            let grid = &table.grid;
            let peeled = grid.peel();
            let bounds = grid.bounds();
            let pinned = grid.pinned();
            for (idx, slot) in grid.slots.iter().enumerate() {
                let b = bounds[idx];
                let n = i128::from(slot.n);
                prop_assert!(b.lower <= n && b.upper.is_none_or(|u| n <= u), "{:?} {:?}", slot, b);
                if matches!(slot.state, State::Suppressed(_)) {
                    prop_assert!(!peeled[idx] || b.collapsed());
                    prop_assert!(!b.collapsed() || pinned[idx]);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn the_auditor_flags_exactly_what_enumeration_finds(
            case in cases(3, 3).prop_filter("small enough to enumerate", |c| c.rows * c.columns <= 6),
            mask in proptest::collection::vec(any::<bool>(), 16),
        ) {
            let table = masked(&case, &mask);
            // Counts are ≤ 3; a consistent table that differs from the true one differs on
            // some cycle by ±1, so enumerating up to 5 sees it.
            let truth = brute_force_derivable(&table, 5);
            let pinned: Vec<Position> = table
                .grid
                .pinned()
                .iter()
                .enumerate()
                .filter(|&(_, &pinned)| pinned)
                .map(|(idx, _)| table.grid.position(idx))
                .collect();
            prop_assert_eq!(&pinned, &truth);
            prop_assert_eq!(derivable_cells(&table), truth);
        }
    }

    // --- totals published elsewhere ---

    /// `rows` with every margin published and the row totals and grand total declared known
    /// elsewhere, as a breakdown whose units' totals are on their scorecards.
    fn with_known_row_totals(rows: &[&[u64]]) -> Table {
        let known = (0..rows.len())
            .map(|row| Position::RowTotal { row })
            .chain([Position::GrandTotal]);
        with_all_margins(rows).known_elsewhere(known).unwrap()
    }

    /// The rows of `rows` whose total is below k, as [`protect_withholding_rows`] takes them.
    fn below(rows: &[&[u64]], min_n: u64) -> Vec<bool> {
        rows.iter()
            .map(|r| {
                let n: u64 = r.iter().sum();
                n > 0 && n < min_n
            })
            .collect()
    }

    /// [`protect_withholding_rows`] over `rows`, with the margins of the kept rows recomputed.
    fn withholding(rows: &[&[u64]], withheld: &[bool], min_n: u64) -> ProtectedTable {
        let columns = rows.first().map_or(0, |r| r.len());
        protect_withholding_rows(withheld, Protection::new(min_n), |kept| {
            let kept: Vec<&[u64]> = kept.iter().map(|&r| rows[r]).collect();
            let known = (0..kept.len())
                .map(|row| Position::RowTotal { row })
                .chain([Position::GrandTotal]);
            if kept.is_empty() {
                return Table::of_width(columns, Vec::new())?
                    .with_margins(Vec::new(), vec![Cell::count(0); columns], Cell::count(0))?
                    .known_elsewhere([Position::GrandTotal]);
            }
            with_all_margins(&kept).known_elsewhere(known)
        })
        .unwrap()
    }

    const WITHHELD: Entry = Entry::Suppressed {
        reason: Reason::Withheld,
    };

    /// Unit 0 has one respondent, published elsewhere with its score (n = 1, 99 %).
    const ONE_RESPONDENT: &[&[u64]] = &[&[1, 0, 0], &[20, 15, 12], &[11, 14, 19]];

    #[test]
    fn a_hidden_cell_is_recovered_from_a_row_total_published_elsewhere() {
        // Protected on its own, the table hides the small row total and its cell ...
        let alone = protect(&with_all_margins(ONE_RESPONDENT), Protection::new(10));
        assert_eq!(alone.row_total(0), Some(PRIMARY));
        assert_eq!(alone.cell(0, 0), Some(PRIMARY));
        assert_eq!(derivable_cells(&alone), vec![]);
        // ... but the reader has that total from the scores, and the zeros beside the hidden
        // cell then give it away: the same table with the total known fails the audit.
        let known = protect(&with_known_row_totals(ONE_RESPONDENT), Protection::new(10));
        assert_eq!(known.row_total(0), Some(shown(1)));
        let findings = audit(&known).findings;
        assert!(
            findings
                .iter()
                .any(|f| f.position == Position::Cell { row: 0, column: 0 }
                    && f.value == 1
                    && f.small),
            "{findings:?}"
        );
    }

    #[test]
    fn a_row_whose_known_total_is_below_k_is_withheld_whole_and_left_out_of_the_totals() {
        let protected = withholding(ONE_RESPONDENT, &below(ONE_RESPONDENT, 10), 10);
        assert_eq!(protected.rows(), 3);
        assert_eq!(protected.withheld_rows(), vec![0]);
        assert_eq!(protected.cells()[0], vec![WITHHELD; 3]);
        assert_eq!(protected.row_total(0), Some(WITHHELD));
        // The column totals and the grand total cover units 1 and 2 only.
        assert_eq!(
            protected.column_totals().unwrap(),
            vec![shown(31), shown(29), shown(31)]
        );
        assert_eq!(protected.grand_total(), Some(shown(91)));
        assert_eq!(protected.cells()[1], vec![shown(20), shown(15), shown(12)]);
        assert_eq!(derivable_cells(&protected), vec![]);
        let withheld: Vec<Position> = protected
            .suppressed()
            .into_iter()
            .filter(|(_, reason)| *reason == Reason::Withheld)
            .map(|(position, _)| position)
            .collect();
        assert_eq!(withheld.len(), 4);
        assert_eq!(withheld.last(), Some(&Position::RowTotal { row: 0 }));
    }

    #[test]
    fn known_totals_are_never_suppressed_and_hidden_cells_beside_them_add_up_to_k() {
        let rows: &[&[u64]] = &[&[2, 12, 15], &[30, 25, 40], &[22, 18, 35]];
        let protected = protect(&with_known_row_totals(rows), Protection::new(10));
        for (row, r) in rows.iter().enumerate() {
            assert_eq!(protected.row_total(row), Some(shown(r.iter().sum())));
        }
        assert_eq!(protected.grand_total(), Some(shown(199)));
        // The 12 is the row's smallest shown cell: 2 + 12 = 14 ≥ 10.
        assert_eq!(protected.cell(0, 0), Some(PRIMARY));
        assert_eq!(protected.cell(0, 1), Some(COMPLEMENTARY));
        assert_eq!(protected.cell(0, 2), Some(shown(15)));
        assert_eq!(small_hidden_sums(&protected), Vec::<Vec<Position>>::new());
        assert!(lines_are_closed(&protected));
        assert_eq!(derivable_cells(&protected), vec![]);
    }

    #[test]
    fn a_row_of_ones_beside_its_known_total_is_withheld_since_no_pattern_can_hide_it() {
        // Three respondents in three categories: knowing the row adds up to 3 and that each
        // hidden count is at least 1 pins every one of them.
        let rows: &[&[u64]] = &[&[1, 1, 1, 0], &[12, 14, 20, 11], &[15, 13, 11, 16]];
        let protected = protect(&with_known_row_totals(rows), Protection::new(3));
        assert!(!derivable_cells(&protected).is_empty());
        let protected = withholding(rows, &[false; 3], 3);
        assert_eq!(protected.withheld_rows(), vec![0]);
        assert_eq!(derivable_cells(&protected), vec![]);
        assert_eq!(protected.row_total(1), Some(shown(57)));
    }

    #[test]
    fn an_entry_known_elsewhere_must_be_published_here_too() {
        let unpublished = Table::new(counts(&[&[1, 2]]))
            .unwrap()
            .known_elsewhere([Position::RowTotal { row: 0 }]);
        assert_eq!(
            unpublished,
            Err(TableError::NotPublished {
                position: Position::RowTotal { row: 0 }
            })
        );
        let outside =
            with_all_margins(&[&[1, 2]]).known_elsewhere([Position::Cell { row: 1, column: 0 }]);
        assert!(matches!(outside, Err(TableError::NotPublished { .. })));
        let wrong_rows = protect_withholding_rows(&[false, false], Protection::new(3), |_| {
            Ok(with_all_margins(&[&[1, 2]]))
        });
        assert_eq!(
            wrong_rows,
            Err(TableError::RowCount {
                expected: 2,
                found: 1
            })
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn tables_with_known_row_totals_keep_them_and_pass_the_audit_once_rows_are_withheld(
            case in cases(5, 25),
            min_n in 2_u64..12,
        ) {
            let rows: Vec<Vec<u64>> = case
                .cells
                .chunks(case.columns)
                .map(|r| r.iter().map(|&(n, _)| n).collect())
                .collect();
            let rows: Vec<&[u64]> = rows.iter().map(Vec::as_slice).collect();
            let withheld = below(&rows, min_n);
            let protected = withholding(&rows, &withheld, min_n);
            prop_assert_eq!(protected.rows(), rows.len());
            prop_assert_eq!(derivable_cells(&protected), vec![]);
            prop_assert_eq!(small_hidden_sums(&protected), Vec::<Vec<Position>>::new());
            let out = protected.withheld_rows();
            for (row, r) in rows.iter().enumerate() {
                if out.contains(&row) {
                    prop_assert!(protected.cells()[row].iter().all(|e| *e == WITHHELD));
                    prop_assert_eq!(protected.row_total(row), Some(WITHHELD));
                } else {
                    // A kept row shows its known total, whatever its size.
                    prop_assert_eq!(protected.row_total(row), Some(shown(r.iter().sum())));
                }
                prop_assert!(!withheld[row] || out.contains(&row));
            }
            let kept: u64 = (0..rows.len())
                .filter(|row| !out.contains(row))
                .map(|row| rows[row].iter().sum::<u64>())
                .sum();
            prop_assert_eq!(protected.grand_total(), Some(shown(kept)));
        }
    }
}
