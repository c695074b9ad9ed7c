-- printers_printer as Django 3.2's migrate creates it on PostgreSQL 15 (../shared/reference), for
-- pipelines/migrate to create when the target lacks it.  Needs accounts_profile.
CREATE TABLE public.printers_printer (
    ip_address character varying(255) NOT NULL,
    api_key character varying(32) NOT NULL,
    id integer NOT NULL,
    ping boolean NOT NULL,
    printing boolean NOT NULL,
    profile_id bigint
);
CREATE SEQUENCE public.printers_printer_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.printers_printer_id_seq OWNED BY public.printers_printer.id;
ALTER TABLE ONLY public.printers_printer ALTER COLUMN id SET DEFAULT nextval('public.printers_printer_id_seq'::regclass);
ALTER TABLE ONLY public.printers_printer
    ADD CONSTRAINT printers_printer_ip_address_api_key_81b61a69_uniq UNIQUE (ip_address, api_key);
ALTER TABLE ONLY public.printers_printer ADD CONSTRAINT printers_printer_pkey PRIMARY KEY (id);
CREATE INDEX printers_printer_profile_id_1d417f1b ON public.printers_printer USING btree (profile_id);
ALTER TABLE ONLY public.printers_printer
    ADD CONSTRAINT printers_printer_profile_id_1d417f1b_fk_accounts_profile_id FOREIGN KEY (profile_id)
    REFERENCES public.accounts_profile(id) DEFERRABLE INITIALLY DEFERRED;
