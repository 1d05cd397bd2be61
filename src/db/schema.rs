//! Diesel table definitions shared by both backends. Only portable SQL types are used here
//! (`BigInt`, `Integer`, `Text`, `Bool`, `Timestamp`), so one schema serves SQLite and PostgreSQL.
#![allow(missing_docs)]

diesel::table! {
    organizations (id) {
        id -> BigInt,
        name -> Text,
        org_uid -> Text,
        org_key_enc -> Text,
        logo_path -> Nullable<Text>,
        logo_mime -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        login -> Text,
        name -> Text,
        email -> Text,
        phone -> Text,
        ui_lang -> Text,
        password_hash -> Nullable<Text>,
        is_org_admin -> Bool,
        active -> Bool,
        cti_id -> Nullable<Text>,
        cti_no -> Nullable<Text>,
        password_changed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_seen_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    services (id) {
        id -> BigInt,
        code -> Text,
        kind -> Text,
        name -> Text,
        languages -> Text,
        default_lang -> Text,
        timezone -> Text,
        editor_type -> Text,
        features -> Text,
        enabled -> Bool,
        open_api_enabled -> Bool,
        service_key_enc -> Nullable<Text>,
        hc_frame_ancestors -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    service_members (id) {
        id -> BigInt,
        service_id -> BigInt,
        user_id -> BigInt,
        role -> Text,
        perm_ticket -> Bool,
        perm_chat -> Bool,
        perm_phone -> Bool,
        perm_callback_assign -> Bool,
        perm_forward -> Bool,
        perm_view_logs -> Bool,
        perm_extract -> Bool,
        ticket_assignable -> Bool,
        chat_assignable -> Bool,
        assignment_control -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    agent_groups (id) {
        id -> BigInt,
        service_id -> BigInt,
        name -> Text,
        display_order -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    group_members (group_id, user_id) {
        group_id -> BigInt,
        user_id -> BigInt,
        position -> Integer,
    }
}

diesel::table! {
    menu_access (service_id, menu) {
        service_id -> BigInt,
        menu -> Text,
        partial -> Bool,
    }
}

diesel::table! {
    menu_restrictions (service_id, menu, user_id) {
        service_id -> BigInt,
        menu -> Text,
        user_id -> BigInt,
    }
}

diesel::table! {
    categories (id) {
        id -> BigInt,
        service_id -> BigInt,
        tree -> Text,
        parent_id -> Nullable<BigInt>,
        level -> Integer,
        position -> Integer,
        names -> Text,
        helpcenter_enabled -> Bool,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    account_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_events (id) {
        id -> BigInt,
        user_id -> Nullable<BigInt>,
        login -> Text,
        kind -> Text,
        ip -> Text,
        user_agent -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    permission_audit (id) {
        id -> BigInt,
        service_id -> Nullable<BigInt>,
        service_code -> Text,
        actor_id -> Nullable<BigInt>,
        actor_name -> Text,
        target_id -> Nullable<BigInt>,
        target_name -> Text,
        operation -> Text,
        before_value -> Text,
        after_value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    smtp_settings (id) {
        id -> BigInt,
        host -> Text,
        port -> Integer,
        tls_mode -> Text,
        username -> Text,
        password_enc -> Nullable<Text>,
        from_address -> Text,
        from_name -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    company_infos (id) {
        id -> BigInt,
        title -> Text,
        company_info -> Text,
        copyright -> Text,
        terms -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    field_defs (id) {
        id -> BigInt,
        service_id -> BigInt,
        audience -> Text,
        code -> Text,
        control -> Text,
        is_system -> Bool,
        config -> Text,
        required -> Bool,
        personal -> Bool,
        visible -> Bool,
        agent_permission -> Text,
        position -> Integer,
        deleted_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    field_layouts (id) {
        id -> BigInt,
        service_id -> BigInt,
        category_id -> Nullable<BigInt>,
        field_id -> BigInt,
        position -> Integer,
    }
}

diesel::table! {
    hc_settings (service_id) {
        service_id -> BigInt,
        show_notices -> Bool,
        show_faq -> Bool,
        show_inquiry -> Bool,
        show_history -> Bool,
        company_info_id -> Nullable<BigInt>,
        custom_css -> Text,
        logo_path -> Nullable<Text>,
        logo_mime -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    faqs (id) {
        id -> BigInt,
        service_id -> BigInt,
        category_id -> Nullable<BigInt>,
        status -> Text,
        pin_main -> Bool,
        pin_category -> Bool,
        view_count -> BigInt,
        author_id -> Nullable<BigInt>,
        editor_id -> Nullable<BigInt>,
        search_text -> Text,
        published_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    faq_contents (faq_id, lang) {
        faq_id -> BigInt,
        lang -> Text,
        title -> Text,
        body_html -> Text,
    }
}

diesel::table! {
    notice_headings (id) {
        id -> BigInt,
        service_id -> BigInt,
        names -> Text,
        position -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notice_tags (id) {
        id -> BigInt,
        service_id -> BigInt,
        names -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notices (id) {
        id -> BigInt,
        service_id -> BigInt,
        heading_id -> BigInt,
        status -> Text,
        pinned -> Bool,
        display_date -> Text,
        starts_at -> Nullable<Timestamp>,
        ends_at -> Nullable<Timestamp>,
        view_count -> BigInt,
        author_id -> Nullable<BigInt>,
        editor_id -> Nullable<BigInt>,
        search_text -> Text,
        published_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notice_contents (notice_id, lang) {
        notice_id -> BigInt,
        lang -> Text,
        title -> Text,
        body_html -> Text,
    }
}

diesel::table! {
    notice_tag_links (notice_id, tag_id) {
        notice_id -> BigInt,
        tag_id -> BigInt,
    }
}

diesel::table! {
    notice_templates (id) {
        id -> BigInt,
        service_id -> BigInt,
        name -> Text,
        heading_id -> Nullable<BigInt>,
        tag_ids -> Text,
        contents -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    hc_attachments (id) {
        id -> BigInt,
        service_id -> BigInt,
        faq_id -> Nullable<BigInt>,
        notice_id -> Nullable<BigInt>,
        file_name -> Text,
        stored_path -> Text,
        mime -> Text,
        size_bytes -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    customers (id) {
        id -> BigInt,
        service_id -> BigInt,
        customer_no -> Text,
        name -> Text,
        email -> Text,
        phone -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        usercode -> Nullable<Text>,
    }
}

diesel::table! {
    tickets (id) {
        id -> BigInt,
        service_id -> BigInt,
        public_id -> Text,
        customer_id -> Nullable<BigInt>,
        category_id -> Nullable<BigInt>,
        status -> Text,
        priority -> Text,
        channel -> Text,
        lang -> Text,
        subject -> Text,
        assignee_id -> Nullable<BigInt>,
        group_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        transfer_state -> Text,
        internal_reason -> Nullable<Text>,
        is_spam -> Bool,
        spam_prev_status -> Nullable<Text>,
        resolution_category_id -> Nullable<BigInt>,
        creator_id -> Nullable<BigInt>,
        origin_ticket_id -> Nullable<BigInt>,
        transferred_to_ticket_id -> Nullable<BigInt>,
        solved_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        version -> BigInt,
        search_text -> Text,
    }
}

diesel::table! {
    ticket_entries (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        kind -> Text,
        author_id -> Nullable<BigInt>,
        body -> Text,
        created_at -> Timestamp,
        client_token -> Nullable<Text>,
        mail_message_id -> Nullable<Text>,
    }
}

diesel::table! {
    ticket_field_values (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        field_id -> BigInt,
        value -> Text,
    }
}

diesel::table! {
    ticket_attachments (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        entry_id -> Nullable<BigInt>,
        file_name -> Text,
        stored_path -> Text,
        mime -> Text,
        size_bytes -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ticket_events (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        kind -> Text,
        actor_id -> Nullable<BigInt>,
        detail -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mail_accounts (id) {
        id -> BigInt,
        service_id -> BigInt,
        display_name -> Text,
        host -> Text,
        port -> Integer,
        use_ssl -> Bool,
        address -> Text,
        password_enc -> Text,
        delete_after_import -> Bool,
        enabled -> Bool,
        uid_validity -> Nullable<BigInt>,
        last_uid -> BigInt,
        lease_until -> Nullable<Timestamp>,
        last_poll_at -> Nullable<Timestamp>,
        last_error -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    mail_imports (id) {
        id -> BigInt,
        service_id -> BigInt,
        account_id -> Nullable<BigInt>,
        message_id -> Text,
        ticket_id -> Nullable<BigInt>,
        entry_id -> Nullable<BigInt>,
        outcome -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mail_quarantine (id) {
        id -> BigInt,
        service_id -> BigInt,
        account_id -> Nullable<BigInt>,
        account_name -> Text,
        uid_validity -> BigInt,
        uid -> BigInt,
        message_id -> Text,
        from_addr -> Text,
        subject -> Text,
        reason -> Text,
        detail -> Text,
        raw_size -> BigInt,
        stored_path -> Nullable<Text>,
        received_at -> Timestamp,
    }
}

diesel::table! {
    api_settings (service_id) {
        service_id -> BigInt,
        allowed_ips -> Text,
        repeat_limit -> Integer,
        repeat_window_minutes -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    member_settings (service_id) {
        service_id -> BigInt,
        enabled -> Bool,
        allow_guest -> Bool,
        login_type -> Text,
        login_url -> Text,
        status_url -> Text,
        extra_params -> Text,
        verify_url -> Text,
        local_verify -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    api_files (public_id) {
        public_id -> Text,
        service_id -> BigInt,
        kind -> Text,
        file_name -> Text,
        stored_path -> Text,
        mime -> Text,
        size_bytes -> BigInt,
        created_at -> Timestamp,
        ticket_attachment_id -> Nullable<BigInt>,
        hc_attachment_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    api_additions (id) {
        id -> Text,
        service_id -> BigInt,
        content -> Text,
        visible -> Bool,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        ticket_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    api_ticket_meta (ticket_id) {
        ticket_id -> BigInt,
        service_id -> BigInt,
        client_ip -> Text,
        type_one -> Text,
        type_two -> Text,
        addition -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    member_tokens (token_hash) {
        token_hash -> Text,
        service_id -> BigInt,
        usercode -> Text,
        username -> Text,
        email -> Text,
        phone -> Text,
        memberno -> Text,
        extras -> Text,
        login_time -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_faq_category_codes (category_id) {
        category_id -> BigInt,
        service_id -> BigInt,
        code -> Text,
    }
}

diesel::table! {
    api_heading_codes (heading_id) {
        heading_id -> BigInt,
        service_id -> BigInt,
        code -> Text,
    }
}

diesel::table! {
    api_tag_codes (tag_id) {
        tag_id -> BigInt,
        service_id -> BigInt,
        code -> Text,
    }
}

diesel::table! {
    api_template_meta (template_id) {
        template_id -> BigInt,
        status -> Text,
        memo -> Text,
        user_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    mail_representatives (service_id) {
        service_id -> BigInt,
        address -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_replay_guard (signature_hash) {
        signature_hash -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    org_api_settings (id) {
        id -> BigInt,
        allowed_ips -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    billing_contracts (id) {
        id -> BigInt,
        service_id -> BigInt,
        start_at -> Timestamp,
        discount_rate -> Integer,
        free_extension -> Integer,
        email -> Text,
        free_trial -> Bool,
        changed_on -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    billing_settings (id) {
        id -> BigInt,
        billing_id -> BigInt,
        item_code -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ticket_calls (ticket_id) {
        ticket_id -> BigInt,
        service_id -> BigInt,
        agent_id -> Nullable<BigInt>,
        direction -> Text,
        ivr_path -> Text,
        disconnected_by -> Text,
        ring_key -> Text,
        ring_at -> Timestamp,
        start_at -> Timestamp,
        end_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    customer_info_apis (id) {
        id -> BigInt,
        service_id -> BigInt,
        name -> Text,
        base_url -> Text,
        encrypt -> Bool,
        key_enc -> Nullable<Text>,
        sign_path -> Bool,
        query_items -> Text,
        result_items -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    customer_info_lookups (id) {
        id -> BigInt,
        service_id -> BigInt,
        ticket_id -> BigInt,
        api_id -> BigInt,
        automatic -> Bool,
        status -> Text,
        outcome -> Text,
        http_status -> Nullable<Integer>,
        query_enc -> Text,
        result_enc -> Text,
        remote_message -> Text,
        requested_by -> Nullable<BigInt>,
        lease_until -> Timestamp,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        attempts -> Integer,
    }
}

diesel::table! {
    customer_grades (id) {
        id -> BigInt,
        service_id -> BigInt,
        name -> Text,
        name_lower -> Text,
        color -> Text,
        position -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    customer_grade_rules (id) {
        id -> BigInt,
        service_id -> BigInt,
        grade_id -> BigInt,
        key_type -> Text,
        value -> Text,
        value_norm -> Text,
        note -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(service_members -> services (service_id));
diesel::joinable!(service_members -> users (user_id));
diesel::table! {
    ticket_stars (user_id, ticket_id) {
        user_id -> BigInt,
        ticket_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    scheduled_jobs (id) {
        id -> BigInt,
        name -> Text,
        status -> Text,
        attempts -> Integer,
        run_at -> Timestamp,
        last_error -> Text,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> BigInt,
        service_id -> Nullable<BigInt>,
        ticket_id -> Nullable<BigInt>,
        purpose -> Text,
        to_addr -> Text,
        to_name -> Text,
        from_addr -> Text,
        from_name -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        message_id -> Text,
        in_reply_to -> Text,
        references_hdr -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Text,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    triggers (id) {
        id -> BigInt,
        service_id -> BigInt,
        title -> Text,
        enabled -> Bool,
        position -> Integer,
        conditions -> Text,
        actions -> Text,
        secret -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    trigger_round_robin (trigger_id, group_id) {
        trigger_id -> BigInt,
        group_id -> BigInt,
        last_user_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    trigger_firings (id) {
        id -> BigInt,
        trigger_id -> BigInt,
        ticket_id -> Nullable<BigInt>,
        event -> Text,
        summary -> Text,
        fired_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        service_id -> BigInt,
        trigger_id -> Nullable<BigInt>,
        ticket_id -> Nullable<BigInt>,
        kind -> Text,
        url -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_status -> Nullable<Integer>,
        last_error -> Text,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    surge_settings (service_id) {
        service_id -> BigInt,
        enabled -> Bool,
        threshold -> Integer,
        window_minutes -> Integer,
        cooldown_minutes -> Integer,
        weekdays -> Text,
        agent_ids -> Text,
        recipient_ids -> Text,
        by_browser -> Bool,
        by_email -> Bool,
        by_sms -> Bool,
        by_dooray -> Bool,
        dooray_url -> Text,
        browser_text -> Text,
        email_subject -> Text,
        email_body -> Text,
        sms_text -> Text,
        dooray_text -> Text,
        last_alert_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    surge_recipients (id) {
        id -> BigInt,
        service_id -> BigInt,
        name -> Text,
        email -> Text,
        phone -> Text,
        note -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    surge_alerts (id) {
        id -> BigInt,
        service_id -> BigInt,
        ticket_count -> Integer,
        window_minutes -> Integer,
        message -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sms_messages (id) {
        id -> BigInt,
        service_id -> Nullable<BigInt>,
        purpose -> Text,
        to_phone -> Text,
        body -> Text,
        status -> Text,
        last_error -> Text,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(ticket_stars -> tickets (ticket_id));
diesel::joinable!(agent_groups -> services (service_id));
diesel::joinable!(group_members -> agent_groups (group_id));
diesel::joinable!(group_members -> users (user_id));
diesel::joinable!(account_tokens -> users (user_id));
diesel::joinable!(field_layouts -> field_defs (field_id));
diesel::joinable!(faq_contents -> faqs (faq_id));
diesel::joinable!(notice_contents -> notices (notice_id));
diesel::joinable!(notices -> notice_headings (heading_id));
diesel::joinable!(notice_tag_links -> notices (notice_id));
diesel::joinable!(notice_tag_links -> notice_tags (tag_id));

diesel::joinable!(billing_settings -> billing_contracts (billing_id));
diesel::joinable!(billing_contracts -> services (service_id));
diesel::joinable!(customer_grade_rules -> customer_grades (grade_id));
diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    users,
    services,
    service_members,
    agent_groups,
    group_members,
    menu_access,
    menu_restrictions,
    categories,
    account_tokens,
    login_events,
    permission_audit,
    smtp_settings,
    company_infos,
    field_defs,
    field_layouts,
    hc_settings,
    faqs,
    faq_contents,
    notice_headings,
    notice_tags,
    notices,
    notice_contents,
    notice_tag_links,
    notice_templates,
    hc_attachments,
    customers,
    tickets,
    ticket_entries,
    ticket_field_values,
    ticket_attachments,
    ticket_events,
    ticket_stars,
    mail_outbox,
    triggers,
    trigger_round_robin,
    trigger_firings,
    webhook_deliveries,
    surge_settings,
    surge_recipients,
    surge_alerts,
    sms_messages,
    mail_accounts,
    mail_imports,
    mail_quarantine,
    api_settings,
    member_settings,
    api_files,
    api_additions,
    api_ticket_meta,
    member_tokens,
    api_faq_category_codes,
    api_heading_codes,
    api_tag_codes,
    api_template_meta,
);

// Ticket processing (migration 000090): settings, sender info, mail layouts, forbidden words,
// reply templates.
diesel::table! {
    ticket_settings (service_id) {
        service_id -> BigInt,
        auto_complete_days -> Integer,
        creator_chooses_assignee -> Bool,
        internal_texts -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    mail_sender_info (service_id) {
        service_id -> BigInt,
        sender_name -> Text,
        sender_address -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    mail_layouts (id) {
        id -> BigInt,
        service_id -> BigInt,
        kind -> Text,
        lang -> Text,
        subject -> Text,
        html_body -> Text,
        text_body -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    forbidden_words (id) {
        id -> BigInt,
        service_id -> BigInt,
        word -> Text,
        word_lower -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reply_templates (id) {
        id -> BigInt,
        service_id -> BigInt,
        shared -> Bool,
        title -> Text,
        body_html -> Text,
        search_code -> Text,
        author_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    reply_template_links (template_id, category_id) {
        template_id -> BigInt,
        category_id -> BigInt,
    }
}

diesel::joinable!(reply_template_links -> reply_templates (template_id));
diesel::joinable!(reply_templates -> services (service_id));
diesel::allow_tables_to_appear_in_same_query!(reply_templates, reply_template_links, services,);

// Dooray! transfer (migration 000170): settings, organizations, projects, member keys, tasks and
// their mirrored conversation.
diesel::table! {
    dooray_settings (service_id) {
        service_id -> BigInt,
        enabled -> Bool,
        paused -> Bool,
        subject_template -> Text,
        body_template -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    dooray_orgs (id) {
        id -> BigInt,
        service_id -> BigInt,
        name -> Text,
        tenant_ref -> Text,
        api_base -> Text,
        token_enc -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    dooray_projects (id) {
        id -> BigInt,
        org_id -> BigInt,
        name -> Text,
        url -> Text,
        project_ref -> Text,
        registrant_ref -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    dooray_member_keys (org_id, user_id) {
        org_id -> BigInt,
        user_id -> BigInt,
        member_ref -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    dooray_tasks (id) {
        id -> BigInt,
        service_id -> BigInt,
        ticket_id -> BigInt,
        project_id -> Nullable<BigInt>,
        tenant_ref -> Text,
        project_ref -> Text,
        post_ref -> Text,
        task_number -> Text,
        web_url -> Text,
        subject -> Text,
        body -> Text,
        workflow_class -> Text,
        workflow_name -> Text,
        registrant_ref -> Text,
        active -> Bool,
        client_token -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    dooray_comments (id) {
        id -> BigInt,
        task_id -> BigInt,
        comment_ref -> Text,
        outgoing -> Bool,
        author_id -> Nullable<BigInt>,
        author_name -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(dooray_projects -> dooray_orgs (org_id));
diesel::joinable!(dooray_member_keys -> dooray_orgs (org_id));
diesel::joinable!(dooray_comments -> dooray_tasks (task_id));
diesel::allow_tables_to_appear_in_same_query!(
    dooray_settings,
    dooray_orgs,
    dooray_projects,
    dooray_member_keys,
    dooray_tasks,
    dooray_comments,
);
diesel::allow_tables_to_appear_in_same_query!(billing_contracts, billing_settings, services,);
diesel::allow_tables_to_appear_in_same_query!(customer_grades, customer_grade_rules, customers,);
