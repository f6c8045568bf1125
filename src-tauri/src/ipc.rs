//! The IPC contract. Every Tauri command is declared with `#[apply(command!)]` instead of
//! `#[tauri::command]`: the macro hands the function to Tauri unchanged and, in test builds,
//! records what the UI needs to call it — the command's name, its argument names and types and
//! its return type — read from the one signature. `bindings.rs` turns those records into
//! `ui/src/generated/commands.ts`, one typed function per command. A renamed command, argument
//! or type therefore changes that file: the drift test fails until it is regenerated, and the UI
//! stops compiling wherever it relied on the old shape.
//!
//! A command's arguments are everything after an optional leading `State<'_, AppState>` (or
//! `AppHandle, State<'_, AppState>`); its return type is `CmdResult<T>` (the UI gets `T`, or a thrown `CommandError`) or nothing.

/// Declares a Tauri command and its typed UI binding. Use as `#[apply(command!)]`.
macro_rules! command {
    // The binding of one command: a module named after it, beside the function.
    (@spec $name:ident [$($meta:meta)*] [$($arg:ident : $ty:ty),*] [$($ret:ty)?]) => {
        pub mod $name {
            /// Proof that the command was declared with `command!`: `commands!` (lib.rs) names
            /// it, so a command with a plain `#[tauri::command]` does not compile.
            pub const DECLARED: () = ();

            #[cfg(test)]
            #[allow(unused_parens)] // `()` when the command returns nothing
            pub fn spec() -> $crate::ipc::CommandSpec {
                #[allow(unused_imports)]
                use super::*;
                $crate::ipc::CommandSpec {
                    name: stringify!($name),
                    attributes: &[$(stringify!($meta)),*],
                    args: vec![$($crate::ipc::Arg::of::<$ty>(stringify!($arg))),*],
                    returns: <($($ret)?) as $crate::ipc::Returns>::returns(),
                }
            }
        }
    };
    // The app state is Tauri's, not an argument from the UI.
    (@args $name:ident $meta:tt [$state:ident : State<$lt:lifetime, AppState> $(, $arg:ident : $ty:ty)* $(,)?] $ret:tt) => {
        $crate::ipc::command!(@spec $name $meta [$($arg : $ty),*] $ret);
    };
    // So is the app handle (before the state, when both are taken).
    (@args $name:ident $meta:tt [$app:ident : AppHandle, $state:ident : State<$lt:lifetime, AppState> $(, $arg:ident : $ty:ty)* $(,)?] $ret:tt) => {
        $crate::ipc::command!(@spec $name $meta [$($arg : $ty),*] $ret);
    };
    (@args $name:ident $meta:tt [$($arg:ident : $ty:ty),* $(,)?] $ret:tt) => {
        $crate::ipc::command!(@spec $name $meta [$($arg : $ty),*] $ret);
    };
    (
        $(#[$meta:meta])*
        $vis:vis async fn $name:ident($($params:tt)*) $(-> $ret:ty)? $body:block
    ) => {
        #[tauri::command]
        $(#[$meta])*
        $vis async fn $name($($params)*) $(-> $ret)? $body
        $crate::ipc::command!(@args $name [$($meta)*] [$($params)*] [$($ret)?]);
    };
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident($($params:tt)*) $(-> $ret:ty)? $body:block
    ) => {
        #[tauri::command]
        $(#[$meta])*
        $vis fn $name($($params)*) $(-> $ret)? $body
        $crate::ipc::command!(@args $name [$($meta)*] [$($params)*] [$($ret)?]);
    };
}
pub(crate) use command;

#[cfg(test)]
pub use spec::*;

#[cfg(test)]
mod spec {
    use crate::error::CommandError;
    use std::any::TypeId;
    use ts_rs::{Config, Dependency, ExportError, TypeVisitor, TS};

    /// One command as the UI sees it.
    #[derive(Debug)]
    pub struct CommandSpec {
        pub name: &'static str,
        /// The function's attributes as written (`doc = "…"` among them).
        pub attributes: &'static [&'static str],
        pub args: Vec<Arg>,
        /// `None`: the command returns nothing.
        pub returns: Option<TypeRef>,
    }

    #[derive(Debug)]
    pub struct Arg {
        pub name: &'static str,
        pub ty: TypeRef,
    }

    impl Arg {
        pub fn of<T: TS + 'static>(name: &'static str) -> Self {
            Arg {
                name,
                ty: TypeRef::of::<T>(),
            }
        }
    }

    /// A type crossing the boundary: its TypeScript name, and the declarations it needs.
    #[derive(Debug, Clone, Copy)]
    pub struct TypeRef {
        name: fn(&Config) -> String,
        visit: fn(&mut Declarations),
    }

    impl TypeRef {
        pub fn of<T: TS + 'static>() -> Self {
            TypeRef {
                name: |cfg| {
                    if TypeId::of::<T>() == TypeId::of::<()>() {
                        "void".into()
                    } else {
                        T::name(cfg)
                    }
                },
                visit: |d| {
                    d.visit::<T>();
                    T::visit_generics(d);
                },
            }
        }

        pub fn ts_name(&self, cfg: &Config) -> String {
            (self.name)(cfg)
        }

        /// Adds the named types this one is written with (itself, its type arguments).
        pub fn declarations(&self, into: &mut Declarations) {
            (self.visit)(into)
        }
    }

    /// Writes one type's declaration (and those it depends on) under the config's folder.
    pub type Export = fn(&Config) -> Result<(), ExportError>;

    /// The exportable types a set of `TypeRef`s is written with.
    #[derive(Default)]
    pub struct Declarations {
        cfg: Config,
        seen: Vec<TypeId>,
        pub imports: Vec<Dependency>,
        pub exports: Vec<Export>,
    }

    impl std::fmt::Debug for Declarations {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Declarations")
                .field("imports", &self.imports)
                .finish_non_exhaustive()
        }
    }

    impl TypeVisitor for Declarations {
        fn visit<T: TS + 'static + ?Sized>(&mut self) {
            let id = TypeId::of::<T>();
            if self.seen.contains(&id) {
                return;
            }
            self.seen.push(id);
            if let Some(dep) = Dependency::from_ty::<T>(&self.cfg) {
                self.imports.push(dep);
                self.exports.push(T::export_all);
            }
        }
    }

    /// What a command's return type means to the UI.
    pub trait Returns {
        fn returns() -> Option<TypeRef>;
    }

    /// No return type: the call resolves with nothing.
    impl Returns for () {
        fn returns() -> Option<TypeRef> {
            None
        }
    }

    /// `CmdResult<T>`: resolves with `T` or throws a `CommandError`.
    impl<T: TS + 'static> Returns for Result<T, CommandError> {
        fn returns() -> Option<TypeRef> {
            Some(TypeRef::of::<T>())
        }
    }
}
