//! Small hand-checkable methodology files shared by the tests of this module and `scoring`.

/// A PAR-style methodology: two components, a leader group worth 22 points (counted), a
/// civil-servant group (reported only) and a linked SIPAS index of 10 points.
pub(crate) const PAR: &str = r#"format = "khaosat-methodology/1"
code = "test-par"
version = 1
total_points = 100
name = { vi = "Phương pháp thử", en = "Test methodology" }

[provenance]
status = "reconstructed"
note = { vi = "Dữ liệu thử", en = "Test data" }
sources = ["unit test"]

[display]
decimals = 2

[ranking]
ties = "competition"
compare = "full_precision"

[tiers]
compare = "full_precision"
bands = [
  { code = "A", min = 90 },
  { code = "B", min = 80, below = 90 },
  { code = "C", min = 70, below = 80 },
  { code = "D", min = 0, below = 70 },
]

[quality]
disclosure_min_n = 10
speeder_seconds = 120

[[component]]
code = "C1"
name = { vi = "Lĩnh vực 1", en = "Component 1" }
max_points = 40
survey_points = 12

[[component]]
code = "C2"
name = { vi = "Lĩnh vực 2", en = "Component 2" }
max_points = 60
survey_points = 20

[[criterion]]
code = "K1"
component = "C1"
name = { vi = "Tiêu chí 1", en = "Criterion 1" }

[[criterion]]
code = "K2"
component = "C2"
name = { vi = "Tiêu chí 2", en = "Criterion 2" }

[coefficient_table.agree4]
name = { vi = "Đánh giá 4 mức", en = "4-level assessment" }
values = { "1" = 1.0, "2" = 0.6, "3" = 0.2, "4" = 0.0 }
invalid = ["dk"]

[[group]]
code = "leader"
name = { vi = "Lãnh đạo, quản lý", en = "Leaders and managers" }
instrument = "test-leader"
counts_toward_index = true
max_points = 22

[[group.item]]
item = "q1"
criterion = "K1"
points = 10
table = "agree4"

[[group.item]]
item = "q2"
criterion = "K2"
points = 10
table = "agree4"

[[group.item]]
item = "q3"
criterion = "K1"
points = 2
table = "agree4"

[[group]]
code = "civil"
name = { vi = "Công chức", en = "Civil servants" }
counts_toward_index = false
max_points = 4

[[group.item]]
item = "c1"
criterion = "K1"
points = 4
coefficients = { values = { "yes" = 1.0, "no" = 0.0 }, invalid = ["dk"] }

[[linked_index]]
code = "sipas"
name = { vi = "Chỉ số SIPAS", en = "SIPAS index" }
component = "C2"
points = 10
"#;

/// A SIPAS methodology: part I (elements I.A with two items, I.B with one), part II
/// (element II.A with one item); 5-point scale, "0" = no answer.
pub(crate) const SIPAS: &str = r#"format = "khaosat-methodology/1"
code = "test-sipas"
version = 1
name = { vi = "SIPAS thử", en = "Test SIPAS" }

[provenance]
status = "reconstructed"
note = { vi = "Dữ liệu thử", en = "Test data" }

[sipas]
group = "citizen"
name = { vi = "Người dân, tổ chức", en = "Citizens and organisations" }
rule = "share"
scale = { "1" = 1, "2" = 2, "3" = 3, "4" = 4, "5" = 5 }
satisfied = ["4", "5"]
invalid = ["0"]
index_points = 10

[[sipas.part]]
code = "I"
name = { vi = "Chính sách", en = "Policy" }

[[sipas.part]]
code = "II"
name = { vi = "Dịch vụ hành chính công", en = "Public administrative services" }

[[sipas.element]]
code = "I.A"
part = "I"
name = { vi = "Tiếp cận chính sách", en = "Access to policy" }
items = ["p1", "p2"]

[[sipas.element]]
code = "I.B"
part = "I"
name = { vi = "Kết quả chính sách", en = "Policy results" }
items = ["p3"]

[[sipas.element]]
code = "II.A"
part = "II"
name = { vi = "Tiếp cận dịch vụ", en = "Access to the service" }
items = ["s1"]
"#;
