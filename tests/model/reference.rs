//! A reference model of the seed's semantics (`shared/seed-semantics.md`), written to be obviously
//! right rather than fast: the Python package's PULL evaluation.
//!
//! Each model token has its own flag and its list of parents; `trigger()` sets only the own flag;
//! a token is triggered when its own flag is set or any parent is triggered, recursively. Tokens
//! are never removed: dropping a handle in the crate changes no state, so the model has nothing to
//! do for it.
//!
//! One thing the seed does not have is modelled beside it: our fixed first cause
//! ([`Model::first_cause`]). The seed re-evaluates `triggered_token` on every call and picks the
//! left-most triggered parent; ours records, at the moment a token becomes triggered, the token
//! whose `trigger()` did it, and never changes it. The seed-level check is membership in
//! [`Model::direct_ancestors_or_self`]; the first-cause check is the stricter, single-threaded
//! consequence of our documented rule.

/// A model token id: its index in creation order. Parents always have smaller ids than children.
pub type Id = usize;

#[derive(Debug)]
struct Token {
    name: String,
    /// `CancelToken::never()`: its `trigger()` does nothing.
    never: bool,
    /// Set by this token's own `trigger()` only (the seed's `_triggered` event).
    own_flag: bool,
    parents: Vec<Id>,
    /// Our rule, not the seed's: who caused this token to be triggered, fixed once set.
    first_cause: Option<Id>,
}

/// All tokens ever created by a program, with the seed's state for each.
#[derive(Debug, Default)]
pub struct Model {
    tokens: Vec<Token>,
    /// `triggered` for every token, re-evaluated bottom-up (in id order) after every trigger.
    triggered: Vec<bool>,
}

impl Model {
    /// A root token (`never`: one that cannot be triggered).
    pub fn root(&mut self, name: String, never: bool) -> Id {
        self.push(name, never, Vec::new())
    }

    /// A token derived from `parents` (`child`: one parent, `chain`: two, `any`: any number).
    /// Born triggered if a parent is; its first cause is then that of the first triggered parent
    /// in `parents` order (the crate's documented rule for `any`).
    pub fn derive(&mut self, name: String, parents: Vec<Id>) -> Id {
        let cause = parents.iter().find(|&&p| self.triggered[p]).map(|&p| {
            self.tokens[p]
                .first_cause
                .expect("a triggered token has a cause")
        });
        let id = self.push(name, false, parents);
        self.tokens[id].first_cause = cause;
        id
    }

    fn push(&mut self, name: String, never: bool, parents: Vec<Id>) -> Id {
        let id = self.tokens.len();
        self.tokens.push(Token {
            name,
            never,
            own_flag: false,
            parents,
            first_cause: None,
        });
        self.triggered.push(self.evaluate(id));
        id
    }

    /// The seed's `trigger()`: sets the own flag, whatever the parents say. Every token that was
    /// live before and is triggered after gets `id` as its first cause.
    pub fn trigger(&mut self, id: Id) {
        if self.tokens[id].never {
            return;
        }
        self.tokens[id].own_flag = true;
        for t in 0..self.tokens.len() {
            let now = self.evaluate(t);
            if now && !self.triggered[t] {
                self.tokens[t].first_cause = Some(id);
            }
            self.triggered[t] = now;
        }
    }

    /// The seed's `triggered` property: own flag or any parent's `triggered`. Evaluated from the
    /// cached values of the parents, which are up to date because parents have smaller ids.
    fn evaluate(&self, id: Id) -> bool {
        let token = &self.tokens[id];
        token.own_flag || token.parents.iter().any(|&p| self.triggered[p])
    }

    pub fn triggered(&self, id: Id) -> bool {
        self.triggered[id]
    }

    pub fn name(&self, id: Id) -> &str {
        &self.tokens[id].name
    }

    /// Our first cause of `id`, `None` while live.
    pub fn first_cause(&self, id: Id) -> Option<Id> {
        self.tokens[id].first_cause
    }

    /// Every token a `triggered_token()` of `id` may name under the seed's semantics: `id` and its
    /// ancestors (through any parent edge) whose own flag is set.
    pub fn direct_ancestors_or_self(&self, id: Id) -> Vec<Id> {
        // Iterative, with a visited set: `t = t.chain(&t)` repeated makes exponentially many paths.
        let mut seen = vec![false; id + 1];
        let mut stack = vec![id];
        let mut found = Vec::new();
        while let Some(t) = stack.pop() {
            if std::mem::replace(&mut seen[t], true) {
                continue;
            }
            if self.tokens[t].own_flag {
                found.push(t);
            }
            stack.extend(self.tokens[t].parents.iter().copied());
        }
        found.sort_unstable();
        found
    }
}
