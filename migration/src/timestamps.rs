use sea_orm_migration::{prelude::*, schema};

/// A UTC instant with microseconds on every backend. MySQL's portable mapping (`timestamp`) keeps
/// whole seconds, ends in 2038 and may update itself on every write; `datetime(6)` does none of that.
pub fn utc<T: IntoIden>(manager: &SchemaManager, column: T) -> ColumnDef {
    match manager.get_database_backend() {
        sea_orm::DbBackend::MySql => ColumnDef::new(column)
            .custom("datetime(6)")
            .not_null()
            .take(),
        _ => schema::timestamp_with_time_zone(column),
    }
}

pub fn utc_null<T: IntoIden>(manager: &SchemaManager, column: T) -> ColumnDef {
    utc(manager, column).null().take()
}
