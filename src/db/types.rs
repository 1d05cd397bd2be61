//! Enumerations stored as text columns. Each has a stable `as_str` code (what the database holds)
//! and a parser that refuses anything else.

use std::fmt;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

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
