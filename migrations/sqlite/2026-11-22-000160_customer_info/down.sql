DROP TABLE customer_info_lookups;
DROP TABLE customer_info_apis;
DROP TABLE ticket_calls;
DROP TABLE billing_settings;
DROP TABLE billing_contracts;
DROP TABLE org_api_settings;
