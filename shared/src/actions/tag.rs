//! `tag-conversation`: adds tags by name (creating missing ones) and removes others.

use serde::{Deserialize, Serialize};

use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::validate::conversation_id;

/// Longest tag name, and most tags added (or removed) by one request.
pub const MAX_TAG_CHARS: usize = 190;
pub const MAX_TAGS: usize = 20;

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", schemars(transform = some_tag))]
pub struct TagRequest {
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::NUMERIC_ID)))]
    pub conversation_id: String,
    /// Tag names to add; missing tags are created.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(max = MAX_TAGS), inner(length(min = 1, max = MAX_TAG_CHARS), regex(pattern = crate::validate::schema::NOT_BLANK))))]
    pub tags: Vec<String>,
    /// Tag names to remove; a tag that does not exist is reported, not an error.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(max = MAX_TAGS), inner(length(min = 1, max = MAX_TAG_CHARS), regex(pattern = crate::validate::schema::NOT_BLANK))))]
    pub remove_tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TagResponse {
    pub conversation_id: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Names in `removeTags` that no tag in the workspace has.
    pub not_found: Vec<String>,
}

/// At least one name in tags or removeTags (the same name in both is refused too, which JSON Schema cannot say).
#[cfg(feature = "schema")]
fn some_tag(schema: &mut schemars::Schema) {
    let branches: Vec<_> = ["tags", "removeTags"]
        .into_iter()
        .map(|key| serde_json::json!({"required": [key], "properties": {key: {"minItems": 1}}}))
        .collect();
    schema.insert("anyOf".into(), branches.into());
}

pub async fn tag_conversation<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: TagRequest,
) -> Result<TagResponse, ActionError> {
    let conversation_id = conversation_id(&request.conversation_id)?;
    let add = tag_names("tags", &request.tags)?;
    let remove = tag_names("removeTags", &request.remove_tags)?;
    if add.is_empty() && remove.is_empty() {
        return Err(ActionError::bad_request("tags", "give at least one tag name in tags or removeTags"));
    }
    if let Some(both) = add.iter().find(|a| remove.iter().any(|r| r.eq_ignore_ascii_case(a))) {
        return Err(ActionError::bad_request("removeTags", format!("tag {both:?} is both added and removed")));
    }
    let admin_id = helpdesk.admin_id().await?;
    let tags = helpdesk.ensure_tags(&add).await?;
    futures::future::try_join_all(tags.iter().map(|tag| helpdesk.tag_conversation(&conversation_id, &admin_id, tag)))
        .await?;
    let mut removed = Vec::new();
    let mut not_found = Vec::new();
    for name in remove {
        match helpdesk.find_tag(&name).await? {
            Some(tag) => {
                match helpdesk.untag_conversation(&conversation_id, &admin_id, &tag).await {
                    Ok(()) => {}
                    // Not on this conversation: the wanted end state already holds.
                    Err(e) if e.is_not_found() => {
                        helpdesk.get_conversation(&conversation_id).await?;
                    }
                    Err(e) => return Err(e.into()),
                }
                removed.push(tag.name);
            }
            None => not_found.push(name),
        }
    }
    Ok(TagResponse { conversation_id, added: tags.into_iter().map(|t| t.name).collect(), removed, not_found })
}

fn tag_names(field: &str, names: &[String]) -> Result<Vec<String>, ActionError> {
    let mut out: Vec<String> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_TAG_CHARS {
            return Err(ActionError::bad_request(&format!("{field}[{i}]"), "tag names must be 1 to 190 characters"));
        }
        if !out.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            out.push(name.to_owned());
        }
    }
    if out.len() > MAX_TAGS {
        return Err(ActionError::bad_request(field, "at most 20 tags per request"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_names_are_trimmed_and_deduplicated() {
        assert_eq!(
            tag_names("tags", &[" VIP ".into(), "vip".into(), "billing".into()]).unwrap(),
            vec!["VIP", "billing"]
        );
        assert!(tag_names("tags", &["  ".into()]).is_err());
    }
}
