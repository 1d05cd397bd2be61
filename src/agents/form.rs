//! Url-encoded forms read as ordered name/value pairs. The agent, group and menu-access forms
//! repeat fields (`group_id` in the new order, one `user_id` per checked member), which a
//! struct-shaped `serde` form cannot express.

/// Most ids accepted from one repeated field; more are ignored (no list here gets that long).
pub const MAX_IDS: usize = 2000;

/// The submitted pairs, in order.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    /// The first value of a field, or an empty string.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Whether a checkbox was ticked (present with a non-empty value).
    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && !v.is_empty())
    }

    /// The first value of a field as an id.
    pub fn id(&self, name: &str) -> Option<i64> {
        self.get(name).trim().parse().ok()
    }

    /// Every value of a repeated field parsed as an id, in order, without repeats or junk.
    pub fn ids(&self, name: &str) -> Vec<i64> {
        let mut out: Vec<i64> = Vec::new();
        for (k, v) in &self.0 {
            if k != name {
                continue;
            }
            if let Ok(id) = v.trim().parse::<i64>()
                && !out.contains(&id)
            {
                out.push(id);
            }
            if out.len() >= MAX_IDS {
                break;
            }
        }
        out
    }
}

/// Moves `id` one place up (`up = true`) or down in `order`; unknown ids leave it unchanged.
pub fn move_one(order: &mut [i64], id: i64, up: bool) {
    let Some(i) = order.iter().position(|x| *x == id) else {
        return;
    };
    if up && i > 0 {
        order.swap(i, i - 1);
    } else if !up && i + 1 < order.len() {
        order.swap(i, i + 1);
    }
}

/// Merges a submitted order with the current one: the submitted ids that exist come first in
/// their submitted order, then any current ids the form did not mention (for instance a group
/// created in another tab), in their current order. Unknown ids are dropped.
pub fn merge_order(current: &[i64], submitted: &[i64]) -> Vec<i64> {
    let mut out: Vec<i64> = submitted
        .iter()
        .copied()
        .filter(|id| current.contains(id))
        .collect();
    for id in current {
        if !out.contains(id) {
            out.push(*id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_ids_keep_their_order() {
        let p = Pairs(vec![
            ("g".into(), "3".into()),
            ("x".into(), "9".into()),
            ("g".into(), "1".into()),
            ("g".into(), "nope".into()),
            ("g".into(), "3".into()),
        ]);
        assert_eq!(p.ids("g"), vec![3, 1]);
        assert_eq!(p.get("x"), "9");
        assert!(!p.checked("y"));
    }

    #[test]
    fn moving_and_merging() {
        let mut o = vec![1, 2, 3];
        move_one(&mut o, 3, true);
        assert_eq!(o, vec![1, 3, 2]);
        move_one(&mut o, 1, true);
        assert_eq!(o, vec![1, 3, 2]);
        move_one(&mut o, 2, false);
        assert_eq!(o, vec![1, 3, 2]);
        assert_eq!(merge_order(&[1, 2, 3, 4], &[3, 9, 1]), vec![3, 1, 2, 4]);
    }
}
