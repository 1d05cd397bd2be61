//! Enumerations stored as text columns, declared with the one [`text_enum!`] macro: each has a
//! stable `as_str` code (what the database holds), a parser that refuses anything else, and
//! diesel conversions so model structs hold the enum itself.

/// Declares an enumeration stored as a text column.
///
/// ```text
/// text_enum! {
///     /// Docs.
///     Name label "prefix." {
///         /// Docs.
///         Variant => "code",
///     }
/// }
/// ```
///
/// Generates `ALL`, `as_str` (the stored code), `parse` (refuses anything else), `Display`
/// (the code), serde (the code), and diesel `ToSql`/`FromSql<Text>` for every backend, so model
/// structs hold the enum directly. With `label "prefix."` it also generates `label_key`, the i18n
/// key `prefix.` + code of the value's name.
macro_rules! text_enum {
    (@label $name:ident $prefix:literal ; $($variant:ident => $code:literal),+) => {
        impl $name {
            /// The i18n key of the value's name.
            pub fn label_key(self) -> &'static str {
                match self { $($name::$variant => concat!($prefix, $code)),+ }
            }
        }
    };
    (@label $name:ident ; $($variant:ident => $code:literal),+) => {};
    ($(#[$meta:meta])* $name:ident $(label $prefix:literal)? { $($(#[$vmeta:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            ::serde::Serialize, ::serde::Deserialize,
            ::diesel::expression::AsExpression, ::diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = ::diesel::sql_types::Text)]
        pub enum $name { $($(#[$vmeta])* #[serde(rename = $code)] $variant),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code stored in the database and used in forms.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// Parses a stored or submitted code.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        $crate::db::types::text_enum!(@label $name $($prefix)? ; $($variant => $code),+);

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<DB> ::diesel::serialize::ToSql<::diesel::sql_types::Text, DB> for $name
        where
            DB: ::diesel::backend::Backend,
            str: ::diesel::serialize::ToSql<::diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut ::diesel::serialize::Output<'b, '_, DB>,
            ) -> ::diesel::serialize::Result {
                <str as ::diesel::serialize::ToSql<::diesel::sql_types::Text, DB>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl<DB> ::diesel::deserialize::FromSql<::diesel::sql_types::Text, DB> for $name
        where
            DB: ::diesel::backend::Backend,
            String: ::diesel::deserialize::FromSql<::diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> ::diesel::deserialize::Result<Self> {
                let text =
                    <String as ::diesel::deserialize::FromSql<::diesel::sql_types::Text, DB>>::from_sql(bytes)?;
                $name::parse(&text).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($name), " code {:?}"), text).into()
                })
            }
        }
    };
}

pub(crate) use text_enum;

text_enum! {
    /// The two kinds of service.
    ServiceKind {
        /// Consultation management: help center, tickets, chat, phone.
        Consultation => "cm",
        /// Issue management: the second line.
        Issue => "im",
    }
}

text_enum! {
    /// A member's base role in one service.
    Role {
        /// Service administrator: everything an agent has plus the service settings.
        Admin => "admin",
        /// Agent: works the channels it is permitted.
        Agent => "agent",
    }
}

text_enum! {
    /// The editor used for replies and mails in a service.
    EditorType {
        /// Rich text (sanitised HTML).
        Html => "html",
        /// Plain text.
        Text => "text",
    }
}

text_enum! {
    /// How the SMTP connection is secured.
    TlsMode {
        /// No encryption (local relays only).
        Plain => "plain",
        /// Plain connection upgraded with STARTTLS.
        StartTls => "starttls",
        /// TLS from the first byte (SMTPS).
        Tls => "tls",
    }
}

text_enum! {
    /// Purposes of one-time account links.
    TokenPurpose {
        /// Password reset ("forgot password").
        Reset => "reset",
        /// Invitation: the invitee sets a first password.
        Invite => "invite",
    }
}

text_enum! {
    /// What a login history row records.
    LoginEventKind {
        /// A successful sign-in.
        Login => "login",
        /// A sign-out.
        Logout => "logout",
        /// A refused sign-in (wrong password, unknown login, inactive or throttled).
        Failed => "failed",
    }
}

text_enum! {
    /// Category trees (one component, four uses).
    CategoryTree {
        /// Intake types (5 levels).
        Intake => "intake",
        /// Resolution types (5 levels).
        Resolution => "resolution",
        /// FAQ categories (3 levels).
        Faq => "faq",
        /// Chat resolution types (3 levels).
        ChatResolution => "chat_resolution",
    }
}

text_enum! {
    /// Console menus whose access can be restricted per member (SPEC §1.4).
    Menu {
        /// Ticket management.
        Tickets => "tickets",
        /// Live chat.
        Chat => "chat",
        /// Chat history.
        ChatHistory => "chat_history",
        /// Phone.
        Phone => "phone",
        /// Callback management.
        Callbacks => "callbacks",
        /// SMS sending.
        Sms => "sms",
        /// Customer information.
        Customers => "customers",
        /// Help center back office.
        HelpCenter => "help_center",
        /// Statistics.
        Statistics => "statistics",
        /// Guide: internal notices and knowledge base.
        Guide => "guide",
    }
}

/// Declares a newtype over an `i64` key stored in a `BigInt` column, so ids of different
/// tables cannot be swapped in a signature. It serialises and displays as the bare number and
/// converts to and from diesel `BigInt` on every backend.
macro_rules! id_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            ::serde::Serialize, ::serde::Deserialize,
            ::diesel::expression::AsExpression, ::diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = ::diesel::sql_types::BigInt)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The bare key.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                $name(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl<DB> ::diesel::serialize::ToSql<::diesel::sql_types::BigInt, DB> for $name
        where
            DB: ::diesel::backend::Backend,
            i64: ::diesel::serialize::ToSql<::diesel::sql_types::BigInt, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut ::diesel::serialize::Output<'b, '_, DB>,
            ) -> ::diesel::serialize::Result {
                <i64 as ::diesel::serialize::ToSql<::diesel::sql_types::BigInt, DB>>::to_sql(
                    &self.0, out,
                )
            }
        }

        impl<DB> ::diesel::deserialize::FromSql<::diesel::sql_types::BigInt, DB> for $name
        where
            DB: ::diesel::backend::Backend,
            i64: ::diesel::deserialize::FromSql<::diesel::sql_types::BigInt, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> ::diesel::deserialize::Result<Self> {
                <i64 as ::diesel::deserialize::FromSql<::diesel::sql_types::BigInt, DB>>::from_sql(
                    bytes,
                )
                .map($name)
            }
        }
    };
}

id_newtype! {
    /// The key of a service.
    ServiceId
}

id_newtype! {
    /// The internal key of a ticket (not its public `T…` ID).
    TicketId
}

id_newtype! {
    /// The key of a user (an agent or administrator account).
    UserId
}

id_newtype! {
    /// The key of a customer record.
    CustomerId
}
