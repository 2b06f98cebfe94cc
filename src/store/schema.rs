// Mirrors migrations/postgres and migrations/sqlite: change all three together.
// Ids are text (UUID v7) and timestamps UTC `Timestamp`, so one schema serves PostgreSQL and SQLite.

diesel::table! {
    provinces (code) {
        code -> Text,
        name -> Text,
        kind -> Text,
        centroid_lat -> Double,
        centroid_lon -> Double,
    }
}

diesel::table! {
    wards (code) {
        code -> Text,
        province_code -> Text,
        name -> Text,
        kind -> Text,
        centroid_lat -> Double,
        centroid_lon -> Double,
        area_km2 -> Double,
    }
}

diesel::table! {
    legacy_ward_links (old_district_code, old_ward_code, new_ward_code) {
        old_ward_code -> Text,
        old_ward_name -> Text,
        old_district_code -> Text,
        old_district_name -> Text,
        old_province_code -> Text,
        old_province_name -> Text,
        new_ward_code -> Text,
        is_partial -> Bool,
    }
}

diesel::table! {
    fixture_loads (name) {
        name -> Text,
        fingerprint -> Text,
        loaded_at -> Timestamp,
    }
}

diesel::table! {
    agencies (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        sender_ward_code -> Nullable<Text>,
        sender_line -> Nullable<Text>,
        sender_phone -> Nullable<Text>,
        default_postage_paid_by -> Text,
        callback_url -> Nullable<Text>,
        callback_secret -> Nullable<Text>,
        level -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        callback_disabled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        role -> Text,
        agency_id -> Nullable<Text>,
        key_prefix -> Text,
        key_hash -> Text,
        label -> Nullable<Text>,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    routing_rules (id) {
        id -> Text,
        agency_id -> Nullable<Text>,
        province_code -> Nullable<Text>,
        ward_code -> Nullable<Text>,
        courier -> Text,
        service_code -> Text,
        sla_hours -> Integer,
        fallback_courier -> Nullable<Text>,
        active -> Bool,
        priority -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Text,
        agency_id -> Text,
        dossier_code -> Text,
        tracking_code -> Text,
        state -> Text,
        state_reason -> Nullable<Text>,
        procedure_code -> Nullable<Text>,
        procedure_name -> Nullable<Text>,
        agency_office -> Nullable<Text>,
        recipient_name -> Text,
        recipient_phone -> Text,
        recipient_email -> Nullable<Text>,
        address_line -> Text,
        ward_code -> Text,
        province_code -> Text,
        legacy_ward_code -> Nullable<Text>,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        weight_grams -> Integer,
        document_count -> Nullable<Integer>,
        declared_value_vnd -> Nullable<BigInt>,
        postage_paid_by -> Text,
        collect_on_delivery_vnd -> BigInt,
        courier -> Text,
        service_code -> Text,
        sla_hours -> Integer,
        fallback_courier -> Nullable<Text>,
        routing_rule_id -> Nullable<Text>,
        courier_tracking_number -> Nullable<Text>,
        notes -> Nullable<Text>,
        notify_sms -> Bool,
        notify_email -> Bool,
        request_fingerprint -> Text,
        request_fields -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_event_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        anonymised_at -> Nullable<Timestamp>,
        courier_fee_vnd -> Nullable<BigInt>,
        dispatch_courier -> Nullable<Text>,
        dispatched_at -> Nullable<Timestamp>,
        courier_pulled_at -> Nullable<Timestamp>,
        delivered_seconds -> Nullable<BigInt>,
    }
}

diesel::table! {
    delivery_events (id) {
        id -> Text,
        delivery_id -> Text,
        state -> Text,
        reason -> Nullable<Text>,
        applied -> Bool,
        source -> Text,
        courier -> Nullable<Text>,
        raw_code -> Nullable<Text>,
        raw_text -> Nullable<Text>,
        location -> Nullable<Text>,
        occurred_at -> Timestamp,
        recorded_at -> Timestamp,
        inbox_id -> Nullable<Text>,
        outcome -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_inbox (id) {
        id -> Text,
        courier -> Text,
        dedupe_key -> Text,
        body -> Binary,
        received_at -> Timestamp,
        status -> Text,
        processed_at -> Nullable<Timestamp>,
        error -> Nullable<Text>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    outbox_jobs (id) {
        id -> Text,
        kind -> Text,
        delivery_id -> Nullable<Text>,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        run_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    outbox_attempts (id) {
        id -> Text,
        job_id -> Text,
        attempt -> Integer,
        started_at -> Timestamp,
        finished_at -> Timestamp,
        outcome -> Text,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        delivery_id -> Text,
        state -> Text,
        channel -> Text,
        status -> Text,
        provider -> Nullable<Text>,
        provider_message_id -> Nullable<Text>,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        event_id -> Nullable<Text>,
        due_at -> Nullable<Timestamp>,
        destination_masked -> Nullable<Text>,
        fallback_of -> Nullable<Text>,
        unsubscribe_token -> Nullable<Text>,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notification_optouts (channel, address_hash) {
        channel -> Text,
        address_hash -> Text,
        source -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    callback_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        agency_id -> Text,
        webhook_id -> Text,
        url -> Text,
        attempt -> Integer,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        response_excerpt -> Nullable<Text>,
        attempted_at -> Timestamp,
        job_id -> Nullable<Text>,
        duration_ms -> Nullable<Integer>,
    }
}

diesel::table! {
    courier_unit_mappings (courier, ward_code) {
        courier -> Text,
        ward_code -> Text,
        courier_province_id -> Text,
        courier_district_id -> Nullable<Text>,
        courier_ward_id -> Text,
        courier_ward_name -> Text,
        matched_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_records (agency_id, idempotency_key) {
        agency_id -> Text,
        idempotency_key -> Text,
        request_fingerprint -> Text,
        delivery_id -> Nullable<Text>,
        response_status -> Integer,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    agency_result_totals (agency_id, day) {
        agency_id -> Text,
        day -> Text,
        results_total -> Integer,
        reported_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        subject_kind -> Nullable<Text>,
        subject_id -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::table! {
    failures_handled (kind, subject_id) {
        kind -> Text,
        subject_id -> Text,
        handled_at -> Timestamp,
        handled_by -> Text,
    }
}

diesel::table! {
    operator_sessions (token_hash) {
        token_hash -> Text,
        api_key_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(wards -> provinces (province_code));

diesel::joinable!(legacy_ward_links -> wards (new_ward_code));

diesel::table! {
    courier_exchanges (id) {
        id -> Text,
        delivery_id -> Text,
        job_id -> Nullable<Text>,
        courier -> Text,
        operation -> Text,
        status_code -> Nullable<Integer>,
        duration_ms -> Integer,
        request_body -> Nullable<Text>,
        response_body -> Nullable<Text>,
        error -> Nullable<Text>,
        occurred_at -> Timestamp,
    }
}

diesel::joinable!(courier_exchanges -> deliveries (delivery_id));

diesel::joinable!(api_keys -> agencies (agency_id));

diesel::joinable!(agency_result_totals -> agencies (agency_id));

diesel::joinable!(operator_sessions -> api_keys (api_key_id));

diesel::joinable!(deliveries -> agencies (agency_id));

diesel::joinable!(delivery_events -> deliveries (delivery_id));

diesel::joinable!(outbox_attempts -> outbox_jobs (job_id));

diesel::joinable!(notifications -> deliveries (delivery_id));

diesel::joinable!(callback_attempts -> deliveries (delivery_id));

diesel::allow_tables_to_appear_in_same_query!(
    provinces,
    wards,
    legacy_ward_links,
    fixture_loads,
    agencies,
    api_keys,
    routing_rules,
    deliveries,
    delivery_events,
    webhook_inbox,
    outbox_jobs,
    outbox_attempts,
    notifications,
    notification_optouts,
    callback_attempts,
    courier_unit_mappings,
    idempotency_records,
    courier_exchanges,
    agency_result_totals,
    audit_log,
    failures_handled,
    operator_sessions,
);
