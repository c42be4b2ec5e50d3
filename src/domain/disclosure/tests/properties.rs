//! Property tests of the disclosure control on random tables: `protect` hides what it must
//! and passes the audit, and the audit flags exactly what brute-force enumeration finds.

use super::*;

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
                let in_row =
                    |r: usize| -> u64 { (0..grid.columns).map(|c| x[r * grid.columns + c]).sum() };
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
