//! The services' gRPC APIs called directly, as another service would: the
//! principal is required and checked where the data is.

mod common;

use common::*;
use gearshift_platform::engine_tests;
use gearshift_platform::principal::{METADATA_KEY, PrincipalKey};
use gearshift_platform::{Principal, Role};
use gearshift_proto::registry::v1 as pb;
use pb::supplier_registry_client::SupplierRegistryClient;

engine_tests!(
    a_call_without_a_valid_principal_is_unauthenticated,
    a_signed_principal_reaches_the_registry_directly,
    batch_get_returns_suppliers_in_the_order_asked,
);

async fn client(app: &TestApp) -> SupplierRegistryClient<tonic::transport::Channel> {
    SupplierRegistryClient::connect(format!("http://{}", app.registry_addr))
        .await
        .unwrap()
}

fn signed<T>(message: T, key: &PrincipalKey, role: Role) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let token = key.sign(&Principal {
        subject: "key_direct".into(),
        role,
    });
    request
        .metadata_mut()
        .insert(METADATA_KEY, token.parse().unwrap());
    request
}

async fn a_call_without_a_valid_principal_is_unauthenticated(engine: Engine) {
    let app = spawn_app(engine).await;
    let mut registry = client(&app).await;

    let anonymous = registry
        .list_suppliers(pb::ListSuppliersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);

    let forged_key = PrincipalKey::new(&[1u8; 32]).unwrap();
    let forged = registry
        .create_supplier(signed(
            pb::CreateSupplierRequest {
                supplier: Some(pb::Supplier {
                    business_number: KIA.into(),
                    legal_name: "x".into(),
                    ..Default::default()
                }),
            },
            &forged_key,
            Role::Operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(forged.code(), tonic::Code::Unauthenticated);

    let mut garbage = tonic::Request::new(pb::ListSuppliersRequest::default());
    garbage
        .metadata_mut()
        .insert(METADATA_KEY, "v1.e30.AAAA".parse().unwrap());
    assert_eq!(
        registry.list_suppliers(garbage).await.unwrap_err().code(),
        tonic::Code::Unauthenticated
    );
}

async fn a_signed_principal_reaches_the_registry_directly(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = PrincipalKey::load_or_create(None, &app.data_dir).unwrap();
    let mut registry = client(&app).await;

    let created = registry
        .create_supplier(signed(
            pb::CreateSupplierRequest {
                supplier: Some(pb::Supplier {
                    business_number: "1198102316".into(),
                    legal_name: "기아".into(),
                    ..Default::default()
                }),
            },
            &key,
            Role::Operator,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.business_number, KIA);
    assert_eq!(
        created.status,
        pb::SupplierStatus::PendingVerification as i32
    );

    let denied = registry
        .create_supplier(signed(
            pb::CreateSupplierRequest {
                supplier: Some(created.clone()),
            },
            &key,
            Role::Institute("KATECH".into()),
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);

    let bad = registry
        .create_supplier(signed(
            pb::CreateSupplierRequest {
                supplier: Some(pb::Supplier {
                    business_number: "1".into(),
                    ..Default::default()
                }),
            },
            &key,
            Role::Operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    use tonic_types::StatusExt;
    let fields: Vec<String> = bad
        .get_error_details()
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect();
    assert_eq!(fields, ["supplier.businessNumber", "supplier.legalName"]);
}

async fn batch_get_returns_suppliers_in_the_order_asked(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = PrincipalKey::load_or_create(None, &app.data_dir).unwrap();
    let mut registry = client(&app).await;
    let a = app.create_supplier(KIA, "기아").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.create_supplier(LG, "LG전자").await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let got = registry
        .batch_get_suppliers(signed(
            pb::BatchGetSuppliersRequest {
                ids: vec![b.clone(), a.clone()],
            },
            &key,
            Role::Institute("KETI".into()),
        ))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<_> = got.suppliers.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids, [b.clone(), a.clone()]);

    let missing = registry
        .batch_get_suppliers(signed(
            pb::BatchGetSuppliersRequest {
                ids: vec![a.clone(), "sup_00000000000000000000000000".into()],
            },
            &key,
            Role::Operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);

    let too_many = registry
        .batch_get_suppliers(signed(
            pb::BatchGetSuppliersRequest {
                ids: vec![a.clone(); 501],
            },
            &key,
            Role::Operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), tonic::Code::InvalidArgument);

    // A company's principal gets only its own record.
    let own = registry
        .batch_get_suppliers(signed(
            pb::BatchGetSuppliersRequest {
                ids: vec![a.clone(), b.clone()],
            },
            &key,
            Role::Supplier(a.clone()),
        ))
        .await
        .unwrap_err();
    assert_eq!(own.code(), tonic::Code::NotFound);
}
