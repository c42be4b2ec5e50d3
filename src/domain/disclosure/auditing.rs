//! The audit: peeling, bounds and the exact unique-solution test, run the way an attacker
//! would against a [`ProtectedTable`].

use super::grid::{Grid, Line, State};
use super::{Position, ProtectedTable};

/// How many times the bounds check may sweep all lines; its intervals are valid after any
/// number of sweeps, this only caps the work on pathological inputs.
const MAX_BOUND_SWEEPS: usize = 256;

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
/// every table [`protect`](super::protect) returns without entries known elsewhere, and for
/// every table [`protect_withholding_rows`](super::protect_withholding_rows) returns.
#[must_use]
pub fn derivable_cells(table: &ProtectedTable) -> Vec<Position> {
    audit(table)
        .findings
        .into_iter()
        .map(|finding| finding.position)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Peeling and the bounds tightening on the grid.

impl Grid {
    /// For every entry: whether peeling makes it known (shown entries are known from the
    /// start).
    pub(super) fn peel(&self) -> Vec<bool> {
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
    pub(super) fn bounds(&self) -> Vec<Bounds> {
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

/// An interval for one count; `upper: None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Bounds {
    pub(super) lower: i128,
    pub(super) upper: Option<i128>,
}

impl Bounds {
    pub(super) const UNKNOWN: Self = Self {
        lower: 0,
        upper: None,
    };

    pub(super) fn exactly(n: u64) -> Self {
        Self {
            lower: i128::from(n),
            upper: Some(i128::from(n)),
        }
    }

    pub(super) fn collapsed(self) -> bool {
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
