DROP TABLE sms_messages;
DROP TABLE surge_alerts;
DROP TABLE surge_recipients;
DROP TABLE surge_settings;
