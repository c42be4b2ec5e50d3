//! Tests of the disclosure control: the policy on small tables, the audit's findings, and
//! tables with totals published elsewhere; the property tests are in `properties`.

use super::Strategy;
use super::grid::{Grid, State};
use super::*;
use proptest::prelude::*;
use proptest::strategy::Strategy as _;

mod properties;

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
            .any(|f| f.position == Position::Cell { row: 0, column: 0 } && f.value == 1 && f.small),
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
