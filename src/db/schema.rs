//! Diesel table definitions, written by hand in types that SQLite and PostgreSQL share
//! (text for enums and JSON, UTC `Timestamp`s, 64-bit ids), so one `MultiConnection` serves both.
//! Keep in step with `migrations/{sqlite,postgres}`; the test suite runs against both.

diesel::table! {
    app_settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    unit_sets (id) {
        id -> BigInt,
        code -> Text,
        name_vi -> Text,
        name_en -> Text,
        first_year -> Nullable<Integer>,
        last_year -> Nullable<Integer>,
        builtin -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    units (id) {
        id -> BigInt,
        unit_set_id -> BigInt,
        code -> Text,
        name_vi -> Text,
        name_en -> Text,
        kind -> Text,
        region_code -> Nullable<Text>,
        region_vi -> Nullable<Text>,
        region_en -> Nullable<Text>,
        valid_from_year -> Nullable<Integer>,
        valid_to_year -> Nullable<Integer>,
    }
}

diesel::table! {
    unit_lineage (unit_id, absorbed_unit_id) {
        unit_id -> BigInt,
        absorbed_unit_id -> BigInt,
    }
}

diesel::table! {
    respondent_groups (id) {
        id -> BigInt,
        code -> Text,
        name_vi -> Text,
        name_en -> Text,
        sort_order -> Integer,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        role -> Text,
        password_hash -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    user_units (user_id, unit_id) {
        user_id -> BigInt,
        unit_id -> BigInt,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    setup_tokens (token_hash) {
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    account_links (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    auth_throttle (key) {
        key -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    instruments (id) {
        id -> BigInt,
        code -> Text,
        version -> Integer,
        group_code -> Text,
        title_vi -> Text,
        title_en -> Text,
        source_format -> Text,
        source_text -> Text,
        definition -> Text,
        content_hash -> Text,
        builtin -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    methodologies (id) {
        id -> BigInt,
        code -> Text,
        version -> Integer,
        name_vi -> Text,
        name_en -> Text,
        source_text -> Text,
        definition -> Text,
        content_hash -> Text,
        builtin -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    rounds (id) {
        id -> BigInt,
        year -> Integer,
        name_vi -> Text,
        name_en -> Text,
        unit_set_id -> BigInt,
        status -> Text,
        opens_at -> Nullable<Timestamp>,
        closes_at -> Nullable<Timestamp>,
        compare_round_id -> Nullable<BigInt>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    round_groups (round_id, group_id) {
        round_id -> BigInt,
        group_id -> BigInt,
        instrument_id -> BigInt,
        methodology_id -> BigInt,
    }
}

diesel::table! {
    round_units (round_id, unit_id) {
        round_id -> BigInt,
        unit_id -> BigInt,
    }
}

diesel::table! {
    round_targets (round_id, unit_id, group_id) {
        round_id -> BigInt,
        unit_id -> BigInt,
        group_id -> BigInt,
        target -> Integer,
    }
}

diesel::table! {
    open_links (id) {
        id -> BigInt,
        round_id -> BigInt,
        unit_id -> BigInt,
        group_id -> BigInt,
        token_hash -> Text,
        quota -> Integer,
        issued -> Integer,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    respondents (id) {
        id -> BigInt,
        round_id -> BigInt,
        unit_id -> BigInt,
        group_id -> BigInt,
        name -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        position -> Nullable<Text>,
        level -> Nullable<Text>,
        opted_out -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    access_codes (id) {
        id -> BigInt,
        round_id -> BigInt,
        unit_id -> BigInt,
        group_id -> BigInt,
        code_hash -> Text,
        kind -> Text,
        open_link_id -> Nullable<BigInt>,
        state -> Text,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    access_code_aliases (code_hash) {
        code_hash -> Text,
        access_code_id -> BigInt,
    }
}

diesel::table! {
    invitations (id) {
        id -> BigInt,
        respondent_id -> BigInt,
        access_code_id -> BigInt,
        invited_at -> Nullable<Timestamp>,
        reminders_sent -> Integer,
        last_reminded_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    drafts (access_code_id) {
        access_code_id -> BigInt,
        answers -> Text,
        section -> Integer,
        lang -> Text,
        submission_key -> Text,
        started_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    responses (id) {
        id -> BigInt,
        receipt -> Text,
        submission_key -> Text,
        round_id -> BigInt,
        unit_id -> BigInt,
        group_id -> BigInt,
        instrument_id -> BigInt,
        submitted_on -> Date,
        source -> Text,
        duration_seconds -> Nullable<Integer>,
        answers -> Text,
        flags -> Nullable<Text>,
        excluded -> Bool,
    }
}

diesel::table! {
    paper_entries (id) {
        id -> BigInt,
        round_id -> BigInt,
        unit_id -> BigInt,
        group_id -> BigInt,
        instrument_id -> BigInt,
        batch_ref -> Text,
        entry_no -> Integer,
        entered_by -> BigInt,
        answers -> Text,
        status -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    tallies (round_id, unit_id, group_id, item_code, value) {
        round_id -> BigInt,
        unit_id -> BigInt,
        group_id -> BigInt,
        item_code -> Text,
        value -> Text,
        count -> BigInt,
    }
}

diesel::table! {
    response_counts (round_id, unit_id, group_id) {
        round_id -> BigInt,
        unit_id -> BigInt,
        group_id -> BigInt,
        responses -> BigInt,
    }
}

diesel::table! {
    appraised_points (round_id, unit_id, component_code) {
        round_id -> BigInt,
        unit_id -> BigInt,
        component_code -> Text,
        points -> Double,
    }
}

diesel::table! {
    score_snapshots (id) {
        id -> BigInt,
        round_id -> BigInt,
        version -> Integer,
        inputs_hash -> Text,
        payload -> Text,
        payload_hash -> Text,
        published_by -> Nullable<BigInt>,
        published_at -> Timestamp,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> BigInt,
        message_key -> Text,
        kind -> Text,
        invitation_id -> Nullable<BigInt>,
        to_address -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_user_id -> Nullable<BigInt>,
        actor -> Text,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<Text>,
        old_value -> Nullable<Text>,
        new_value -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        scope -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    export_jobs (id) {
        id -> Text,
        user_id -> BigInt,
        round_id -> Nullable<BigInt>,
        kind -> Text,
        format -> Text,
        params -> Text,
        status -> Text,
        progress -> BigInt,
        total -> BigInt,
        file_name -> Nullable<Text>,
        error -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    upload_previews (id) {
        id -> BigInt,
        token_hash -> Text,
        round_id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        round_status -> Text,
        listed_before -> Nullable<BigInt>,
        file_name -> Text,
        payload_json -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sample_commitments (round_id) {
        round_id -> BigInt,
        frame_hash -> Text,
        seed_source -> Text,
        committed_at -> Timestamp,
        committed_by -> Text,
        seed -> Nullable<Text>,
        drawn_at -> Nullable<Timestamp>,
        drawn_by -> Nullable<Text>,
    }
}

diesel::table! {
    sample_strata (id) {
        id -> BigInt,
        round_id -> BigInt,
        unit_id -> BigInt,
        group_id -> BigInt,
        frame_size -> BigInt,
        sample_size -> BigInt,
        frame_hash -> Text,
    }
}

diesel::table! {
    sample_members (id) {
        id -> BigInt,
        stratum_id -> BigInt,
        respondent_id -> Nullable<BigInt>,
        respondent_key -> Text,
        position -> Nullable<BigInt>,
        status -> Text,
        reason -> Nullable<Text>,
        replaced_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(units -> unit_sets (unit_set_id));
diesel::joinable!(unit_lineage -> units (unit_id));
diesel::joinable!(user_units -> users (user_id));
diesel::joinable!(user_units -> units (unit_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(instruments -> users (created_by));
diesel::joinable!(methodologies -> users (created_by));
diesel::joinable!(rounds -> unit_sets (unit_set_id));
diesel::joinable!(rounds -> users (created_by));
diesel::joinable!(round_groups -> rounds (round_id));
diesel::joinable!(round_groups -> respondent_groups (group_id));
diesel::joinable!(round_groups -> instruments (instrument_id));
diesel::joinable!(round_groups -> methodologies (methodology_id));
diesel::joinable!(round_units -> rounds (round_id));
diesel::joinable!(round_units -> units (unit_id));
diesel::joinable!(round_targets -> rounds (round_id));
diesel::joinable!(round_targets -> units (unit_id));
diesel::joinable!(round_targets -> respondent_groups (group_id));
diesel::joinable!(open_links -> rounds (round_id));
diesel::joinable!(open_links -> units (unit_id));
diesel::joinable!(open_links -> respondent_groups (group_id));
diesel::joinable!(respondents -> rounds (round_id));
diesel::joinable!(respondents -> units (unit_id));
diesel::joinable!(respondents -> respondent_groups (group_id));
diesel::joinable!(access_codes -> rounds (round_id));
diesel::joinable!(access_codes -> units (unit_id));
diesel::joinable!(access_codes -> respondent_groups (group_id));
diesel::joinable!(access_codes -> open_links (open_link_id));
diesel::joinable!(invitations -> respondents (respondent_id));
diesel::joinable!(invitations -> access_codes (access_code_id));
diesel::joinable!(drafts -> access_codes (access_code_id));
diesel::joinable!(responses -> rounds (round_id));
diesel::joinable!(responses -> units (unit_id));
diesel::joinable!(responses -> respondent_groups (group_id));
diesel::joinable!(responses -> instruments (instrument_id));
diesel::joinable!(paper_entries -> rounds (round_id));
diesel::joinable!(paper_entries -> units (unit_id));
diesel::joinable!(paper_entries -> respondent_groups (group_id));
diesel::joinable!(paper_entries -> instruments (instrument_id));
diesel::joinable!(paper_entries -> users (entered_by));
diesel::joinable!(tallies -> rounds (round_id));
diesel::joinable!(tallies -> units (unit_id));
diesel::joinable!(tallies -> respondent_groups (group_id));
diesel::joinable!(response_counts -> rounds (round_id));
diesel::joinable!(response_counts -> units (unit_id));
diesel::joinable!(response_counts -> respondent_groups (group_id));
diesel::joinable!(appraised_points -> rounds (round_id));
diesel::joinable!(appraised_points -> units (unit_id));
diesel::joinable!(score_snapshots -> rounds (round_id));
diesel::joinable!(score_snapshots -> users (published_by));
diesel::joinable!(mail_outbox -> invitations (invitation_id));
diesel::joinable!(access_code_aliases -> access_codes (access_code_id));
diesel::joinable!(audit_log -> users (actor_user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(account_links -> users (user_id));
diesel::joinable!(export_jobs -> users (user_id));
diesel::joinable!(export_jobs -> rounds (round_id));
diesel::joinable!(upload_previews -> rounds (round_id));
diesel::joinable!(upload_previews -> users (user_id));
diesel::joinable!(sample_commitments -> rounds (round_id));
diesel::joinable!(sample_strata -> sample_commitments (round_id));
diesel::joinable!(sample_strata -> units (unit_id));
diesel::joinable!(sample_strata -> respondent_groups (group_id));
diesel::joinable!(sample_members -> sample_strata (stratum_id));
diesel::joinable!(sample_members -> respondents (respondent_id));

diesel::allow_tables_to_appear_in_same_query!(
    app_settings,
    unit_sets,
    units,
    unit_lineage,
    respondent_groups,
    users,
    user_units,
    sessions,
    setup_tokens,
    account_links,
    auth_throttle,
    instruments,
    methodologies,
    rounds,
    round_groups,
    round_units,
    round_targets,
    open_links,
    respondents,
    access_codes,
    access_code_aliases,
    invitations,
    drafts,
    responses,
    paper_entries,
    tallies,
    response_counts,
    appraised_points,
    score_snapshots,
    mail_outbox,
    audit_log,
    api_tokens,
    export_jobs,
    upload_previews,
    sample_commitments,
    sample_strata,
    sample_members,
);
