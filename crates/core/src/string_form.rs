//! Types whose wire form is a string (ids, E.164 numbers, amounts, periods, zones) implement
//! `Display` and `FromStr`; [`string_form!`] derives the rest from those two, so the rule "what
//! exists was parsed" also holds for values arriving in JSON:
//! `Debug` (as `Display`), `Serialize` (the string), `Deserialize` (through `FromStr`, refusing an
//! invalid value with its parse message) and an OpenAPI string schema.

macro_rules! string_form {
    ($ty:ty, example = $example:expr, description = $description:expr $(, pattern = $pattern:expr)? $(,)?) => {
        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(self, f)
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }

        impl ::utoipa::PartialSchema for $ty {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                ::utoipa::openapi::ObjectBuilder::new()
                    .schema_type(::utoipa::openapi::schema::Type::String)
                    .description(Some($description))
                    $(.pattern(Some($pattern)))?
                    .examples([::serde_json::json!($example)])
                    .into()
            }
        }

        impl ::utoipa::ToSchema for $ty {}
    };
}

pub(crate) use string_form;
