-- accounts_profile as Django 3.2's migrate creates it on PostgreSQL 15 (../shared/reference), for
-- pipelines/migrate to create when the target lacks it.  Needs auth_user.
CREATE TABLE public.accounts_profile (
    id bigint NOT NULL,
    name character varying(200),
    email character varying(500),
    username character varying(200),
    organization character varying(200),
    user_id integer
);
CREATE SEQUENCE public.accounts_profile_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.accounts_profile_id_seq OWNED BY public.accounts_profile.id;
ALTER TABLE ONLY public.accounts_profile ALTER COLUMN id SET DEFAULT nextval('public.accounts_profile_id_seq'::regclass);
ALTER TABLE ONLY public.accounts_profile ADD CONSTRAINT accounts_profile_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.accounts_profile ADD CONSTRAINT accounts_profile_user_id_key UNIQUE (user_id);
ALTER TABLE ONLY public.accounts_profile
    ADD CONSTRAINT accounts_profile_user_id_49a85d32_fk_auth_user_id FOREIGN KEY (user_id)
    REFERENCES public.auth_user(id) DEFERRABLE INITIALLY DEFERRED;
