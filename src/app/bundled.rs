//! The default questionnaires and scoring methodologies shipped in `assets/`, compiled into the
//! binary and loaded into the database at start. They are reconstructed from public sources
//! and say so; administrators replace them by importing the official versions.

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub struct BundledFile {
    /// The file name, used in messages.
    pub name: &'static str,
    /// The file's bytes.
    pub bytes: &'static [u8],
}

/// The file `$name` of `assets/$folder/`, embedded: the name is written once, so the name a
/// message shows is always the file's.
macro_rules! bundled {
    ($folder:literal, $name:literal) => {
        BundledFile {
            name: $name,
            bytes: include_bytes!(concat!("../../assets/", $folder, "/", $name)),
        }
    };
}

/// The bundled instruments: leaders and managers, civil servants, citizens (SIPAS).
pub const INSTRUMENTS: [BundledFile; 3] = [
    bundled!("instruments", "par-leader-2022.toml"),
    bundled!("instruments", "par-civil-servant-2022.toml"),
    bundled!("instruments", "sipas-2023.toml"),
];

/// The bundled methodologies: the PAR survey scoring and SIPAS.
pub const METHODOLOGIES: [BundledFile; 2] = [
    bundled!("methodologies", "par-2022.toml"),
    bundled!("methodologies", "sipas-2023.toml"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::instrument::{Instrument, RespondentGroup};
    use crate::domain::methodology::Methodology;

    fn instrument(file: &BundledFile) -> Instrument {
        Instrument::from_toml(file.bytes, file.name).unwrap_or_else(|errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("{}", lines.join("\n"))
        })
    }

    fn methodology(file: &BundledFile) -> Methodology {
        Methodology::parse(file.name, file.bytes).unwrap_or_else(|errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("{}", lines.join("\n"))
        })
    }

    #[test]
    fn every_bundled_file_is_valid_and_labelled_as_reconstructed() {
        for file in &INSTRUMENTS {
            let i = instrument(file);
            assert!(
                i.provenance().contains("Reconstructed from public sources"),
                "{}",
                file.name
            );
            assert!(
                i.provenance()
                    .to_lowercase()
                    .contains("tái dựng từ nguồn công khai")
            );
        }
        for file in &METHODOLOGIES {
            let m = methodology(file);
            let text = String::from_utf8_lossy(file.bytes);
            assert!(
                text.contains("reconstructed from public sources"),
                "{}",
                file.name
            );
            assert!(m.content_hash().len() == 64);
        }
    }

    #[test]
    fn the_leader_instrument_has_about_forty_items_over_five_sections() {
        let leader = instrument(&INSTRUMENTS[0]);
        assert_eq!(leader.group(), RespondentGroup::Leader);
        assert_eq!(leader.sections().len(), 5);
        assert_eq!(leader.scorable_items().len(), 40);
    }

    #[test]
    fn par_2022_scores_exactly_the_scorable_items_of_the_leader_and_civil_servant_instruments() {
        let m = methodology(&METHODOLOGIES[0]);
        for (file, group) in [
            (&INSTRUMENTS[0], "leader"),
            (&INSTRUMENTS[1], "civil_servant"),
        ] {
            let items = instrument(file).scorable_items();
            let errors = m.check_against(group, &items);
            assert!(errors.is_empty(), "{errors:?}");
            let mapped: Vec<&str> = m
                .group(group)
                .unwrap()
                .items
                .iter()
                .map(|i| i.item.as_str())
                .collect();
            let scorable: Vec<&str> = items.iter().map(|i| i.code.as_str()).collect();
            assert_eq!(mapped, scorable, "{}", file.name);
        }
    }

    #[test]
    fn the_leader_group_is_worth_exactly_22_points_and_the_components_100() {
        let m = methodology(&METHODOLOGIES[0]);
        let leader = m.group("leader").unwrap();
        let micro: i64 = leader
            .items
            .iter()
            .map(|i| (i.points * 1e6).round() as i64)
            .sum();
        assert_eq!(micro, 22_000_000);
        let total: i64 = m
            .components
            .iter()
            .map(|c| (c.max_points * 1e6).round() as i64)
            .sum();
        assert_eq!(total, 100_000_000);
    }

    #[test]
    fn sipas_2023_scores_the_satisfaction_items_of_the_citizen_instrument() {
        let m = methodology(&METHODOLOGIES[1]);
        let sipas = m.sipas.as_ref().unwrap();
        let items = instrument(&INSTRUMENTS[2]).scorable_items();
        let errors = m.check_against(&sipas.group, &items);
        assert!(errors.is_empty(), "{errors:?}");
        let mapped: usize = sipas.elements.iter().map(|e| e.items.len()).sum();
        assert_eq!(mapped, 39);
    }
}
