DROP TABLE field_layouts;
DROP TABLE field_defs;
