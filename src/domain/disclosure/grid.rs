//! The internal grid: inner cells plus a margin row and column, each entry with its true
//! count, its lines, and the residual graph and path search behind the exact check and repair.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::{Cell, Position, Reason, Table};

/// Whether and how an entry is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// A margin the caller does not publish: unknown to readers, never needs hiding.
    Unpublished,
    /// Published as is.
    Shown,
    /// Published as hidden.
    Suppressed(Reason),
}

/// One entry of the grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Slot {
    /// The true count (for an unpublished margin: the sum of its cells, saturating).
    pub(super) n: u64,
    pub(super) value: Option<f64>,
    pub(super) state: State,
    /// Published elsewhere ([`Table::known_elsewhere`]): always shown, never a partner.
    pub(super) known: bool,
}

/// A row or column of the grid: its inner entries add up to its margin entry.
pub(super) struct Line {
    pub(super) members: Vec<usize>,
    pub(super) total: usize,
}

impl Line {
    pub(super) fn entries(&self) -> impl Iterator<Item = usize> + '_ {
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
pub(super) struct Grid {
    pub(super) rows: usize,
    pub(super) columns: usize,
    pub(super) row_totals_published: bool,
    pub(super) column_totals_published: bool,
    pub(super) slots: Vec<Slot>,
}

impl Grid {
    pub(super) fn from_table(table: &Table) -> Self {
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

    pub(super) const fn width(&self) -> usize {
        self.columns + 1
    }

    pub(super) const fn height(&self) -> usize {
        self.rows + 1
    }

    pub(super) const fn nodes(&self) -> usize {
        self.height() + self.width()
    }

    pub(super) const fn index(&self, a: usize, b: usize) -> usize {
        a * self.width() + b
    }

    pub(super) const fn coords(&self, idx: usize) -> (usize, usize) {
        (idx / self.width(), idx % self.width())
    }

    pub(super) fn index_of(&self, position: Position) -> Option<usize> {
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

    pub(super) fn position(&self, idx: usize) -> Position {
        let (a, b) = self.coords(idx);
        match (a < self.rows, b < self.columns) {
            (true, true) => Position::Cell { row: a, column: b },
            (true, false) => Position::RowTotal { row: a },
            (false, true) => Position::ColumnTotal { column: b },
            (false, false) => Position::GrandTotal,
        }
    }

    pub(super) fn slot(&self, idx: usize) -> Option<&Slot> {
        self.slots.get(idx)
    }

    pub(super) fn state(&self, idx: usize) -> Option<State> {
        self.slot(idx).map(|slot| slot.state)
    }

    pub(super) fn is_hidden(&self, idx: usize) -> bool {
        self.state(idx).is_some_and(|state| state != State::Shown)
    }

    /// Suppresses an entry, unless it is known elsewhere.
    pub(super) fn suppress(&mut self, idx: usize, reason: Reason) {
        if let Some(slot) = self.slots.get_mut(idx)
            && !slot.known
        {
            slot.state = State::Suppressed(reason);
        }
    }

    /// Whether the entry could be suppressed as a partner: shown, non-zero and not known
    /// elsewhere.
    pub(super) fn is_candidate(&self, idx: usize) -> bool {
        self.slot(idx)
            .is_some_and(|slot| slot.state == State::Shown && slot.n > 0 && !slot.known)
    }

    /// The two nodes an entry joins: its grid row and its grid column.
    pub(super) const fn endpoints(&self, idx: usize) -> (usize, usize) {
        let (a, b) = self.coords(idx);
        (a, self.height() + b)
    }

    /// Whether moving from the entry's row node to its column node adds 1 to its count (inner
    /// cells and the grand total) rather than removing 1 (row and column totals).
    pub(super) const fn adds_forward(&self, idx: usize) -> bool {
        let (a, b) = self.coords(idx);
        (a < self.rows) == (b < self.columns)
    }

    pub(super) fn lines(&self) -> Vec<Line> {
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

    // --- the residual graph ---

    /// The lower bound a reader knows for a hidden entry (`None` for a shown one).
    pub(super) fn known_lower(&self, idx: usize) -> Option<u64> {
        match self.state(idx)? {
            State::Suppressed(_) => Some(1),
            State::Unpublished => Some(0),
            State::Shown => None,
        }
    }

    /// The node-to-node moves along entry `idx` that keep its count at or above `lower`.
    /// Increasing is always possible (no upper bounds are known); decreasing needs slack.
    pub(super) fn moves(
        &self,
        idx: usize,
        n: u64,
        lower: u64,
    ) -> impl Iterator<Item = (usize, usize)> {
        let (row, column) = self.endpoints(idx);
        let forward_adds = self.adds_forward(idx);
        let can_decrease = n > lower;
        let forward = (forward_adds || can_decrease).then_some((row, column));
        let backward = (!forward_adds || can_decrease).then_some((column, row));
        forward.into_iter().chain(backward)
    }

    /// The residual graph: for every hidden entry, its feasible moves at cost 0; with
    /// `candidates`, also the moves of shown non-zero entries (as if suppressed) at cost n.
    pub(super) fn arcs(&self, candidates: bool) -> Vec<Vec<Arc>> {
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
    pub(super) fn pinned(&self) -> Vec<bool> {
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
}

/// One move in the residual graph.
#[derive(Debug, Clone, Copy)]
pub(super) struct Arc {
    to: usize,
    slot: usize,
    cost: u64,
}

/// Whether `to` can be reached from `from` without using entry `avoid`.
pub(super) fn reaches(arcs: &[Vec<Arc>], from: usize, to: usize, avoid: usize) -> bool {
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
pub(super) fn cheapest_path(
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
