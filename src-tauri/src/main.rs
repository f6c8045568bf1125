fn main() {
    provider_admin_lib::run()
}
