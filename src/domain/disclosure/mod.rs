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

mod auditing;
mod grid;
mod protection;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::Serialize;

pub use auditing::{Audit, Finding, Interval, Method, audit, derivable_cells};
pub use protection::{
    Entry, ProtectedTable, Protection, Reason, Strategy, protect, protect_withholding_rows,
};

/// The methodology's default minimum cell size `k` (`quality.disclosure_min_n`).
pub const DEFAULT_MIN_N: u64 = 10;

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
