//! Where the survey walk puts each question: the page of the group that is open, or else a
//! default section for each run of ungrouped rows (`main`, `main_2`, ...).

use crate::domain::instrument::{At, DraftQuestion, DraftSection, Location, Text};

/// A `begin group` whose `end group` has not been read yet: the page being filled.
pub(super) struct OpenGroup {
    pub(super) section: DraftSection,
    pub(super) at: Location,
    pub(super) name: String,
}

/// The default section of a run of questions outside any group (`main`, `main_2`, ...).
#[derive(Default)]
pub(super) struct Loose {
    section: Option<DraftSection>,
    count: usize,
}

impl Loose {
    pub(super) fn is_empty(&self) -> bool {
        self.section.is_none() && self.count == 0
    }

    /// Ends the current run of ungrouped questions.
    pub(super) fn close(&mut self, sections: &mut Vec<DraftSection>) {
        if let Some(l) = self.section.take() {
            sections.push(l);
        }
    }

    /// Adds a question to the open group, or else to the current default section.
    pub(super) fn place(&mut self, question: DraftQuestion, group: &mut Option<OpenGroup>) {
        if let Some(open) = group {
            open.section.questions.push(question);
            return;
        }
        let count = &mut self.count;
        let section = self.section.get_or_insert_with(|| {
            *count += 1;
            let code = if *count == 1 {
                "main".to_owned()
            } else {
                format!("main_{count}")
            };
            DraftSection {
                at: question.at.clone(),
                code: Some(At::new(code, question.at.clone())),
                title: Some(Text::new("Câu hỏi chung", "General questions")),
                intro: None,
                relevant: None,
                questions: Vec::new(),
            }
        });
        section.questions.push(question);
    }
}
