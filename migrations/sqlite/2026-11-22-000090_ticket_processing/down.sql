DROP TABLE reply_template_links;
DROP TABLE reply_templates;
DROP TABLE forbidden_words;
DROP TABLE mail_layouts;
DROP TABLE mail_sender_info;
DROP TABLE ticket_settings;
