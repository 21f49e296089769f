//! Requests with typed replies: each domain declares its requests once, with [`requests!`], and the
//! compiler then knows which reply each one gets.
//!
//! A domain writes its `Reply` enum by hand (several requests may share a reply, such as the agent a
//! create, an update or a duplicate gives back) and lists its requests:
//!
//! ```ignore
//! crate::requests! {
//!     /// Every agent.
//!     ListAgents = "list_agents" => Agents(Vec<Agent>);
//!     /// Saves an agent's fields.
//!     UpdateAgent { pub id: i64, pub draft: AgentDraft } = "update_agent", ordered => Agent(Agent);
//!     /// Forgets the sign-in in progress.
//!     SignInCancel = "sign_in_cancel" => Done;
//! }
//! ```
//!
//! That makes a struct per request, a `Request` enum over them (what the backend routes), and for each
//! request an [`Ask`] impl naming its reply type and how it is wrapped in, and taken out of, `Reply`.

/// A request whose reply has a known type.
pub trait Ask: Sized {
    /// The domain's request enum this request is a variant of.
    type Request: From<Self>;
    /// The domain's reply enum.
    type Replies;
    /// What this request answers with.
    type Reply;
    /// The request's name in the design's command table (`list_agents`).
    const NAME: &'static str;
    /// Puts this request's reply into the domain's reply enum.
    fn wrap(reply: Self::Reply) -> Self::Replies;
    /// Takes this request's reply out of the domain's reply enum (None: another request's reply).
    fn unwrap(replies: Self::Replies) -> Option<Self::Reply>;
    /// Answers this request: `request.answer(value)` only takes a value of this request's reply type.
    fn answer(&self, reply: Self::Reply) -> Self::Replies {
        Self::wrap(reply)
    }
}

/// Declares a domain's requests; see the module docs.
#[macro_export]
macro_rules! requests {
    (
        $(
            $(#[$meta:meta])*
            $name:ident $({ $($field:tt)* })? = $snake:literal $(, $ordered:ident)? => $variant:ident $(($reply:ty))?;
        )*
    ) => {
        $(
            $crate::__request_struct!($(#[$meta])* $name $({ $($field)* })?);
            impl From<$name> for Request {
                fn from(request: $name) -> Self {
                    Request::$name(request)
                }
            }
            impl $crate::util::request::Ask for $name {
                type Request = Request;
                type Replies = Reply;
                type Reply = $crate::__reply_type!($($reply)?);
                const NAME: &'static str = $snake;
                fn wrap(reply: Self::Reply) -> Reply {
                    $crate::__reply_wrap!(reply, $variant $(($reply))?)
                }
                fn unwrap(replies: Reply) -> Option<Self::Reply> {
                    $crate::__reply_unwrap!(replies, $variant $(($reply))?)
                }
            }
        )*

        /// Every request of this domain.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Request {
            $($name($name),)*
        }

        impl Request {
            /// The request's name in the design's command table, for messages and logs.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Request::$name(_) => $snake,)*
                }
            }

            /// Whether the request's effects must land in the order requests were made (writes).
            pub fn is_ordered(&self) -> bool {
                match self {
                    $(Request::$name(_) => $crate::__is_ordered!($($ordered)?),)*
                }
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __request_struct {
    ($(#[$meta:meta])* $name:ident { $($field:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name { $($field)* }
    };
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name;
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __reply_type {
    () => {
        ()
    };
    ($reply:ty) => {
        $reply
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __reply_wrap {
    ($value:ident, $variant:ident) => {{
        let () = $value;
        Reply::$variant
    }};
    ($value:ident, $variant:ident ($reply:ty)) => {
        Reply::$variant($value)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __reply_unwrap {
    ($replies:ident, $variant:ident) => {
        #[allow(unreachable_patterns, reason = "a domain with one kind of reply")]
        match $replies {
            Reply::$variant => Some(()),
            _ => None,
        }
    };
    ($replies:ident, $variant:ident ($reply:ty)) => {
        #[allow(unreachable_patterns, reason = "a domain with one kind of reply")]
        match $replies {
            Reply::$variant(value) => Some(value),
            _ => None,
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __is_ordered {
    () => {
        false
    };
    (ordered) => {
        true
    };
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::Ask;

    #[derive(Debug, Clone, PartialEq)]
    pub enum Reply {
        Names(Vec<String>),
        Name(String),
        Done,
    }

    crate::requests! {
        /// Lists names.
        ListNames = "list_names" => Names(Vec<String>);
        /// Renames one.
        Rename { pub from: String, pub to: String } = "rename", ordered => Name(String);
        /// Forgets everything.
        Forget = "forget", ordered => Done;
    }

    #[test]
    fn each_request_knows_its_reply_and_name() {
        let rename = Rename {
            from: "a".into(),
            to: "b".into(),
        };
        let request = Request::from(rename.clone());
        assert_eq!(request.name(), "rename");
        assert!(request.is_ordered());
        assert!(!Request::from(ListNames).is_ordered());
        assert_eq!(Rename::NAME, "rename");
        let reply = rename.answer("b".to_string());
        assert_eq!(reply, Reply::Name("b".into()));
        assert_eq!(Rename::unwrap(reply.clone()), Some("b".to_string()));
        assert_eq!(
            ListNames::unwrap(reply),
            None,
            "another request's reply is not taken for this one's"
        );
        assert_eq!(Forget::unwrap(Forget.answer(())), Some(()));
    }
}
